"""Properties of SPEC 3 and 4 over generated accounts (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gl_csm.domain.account import parse_account
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.health import NO_SIGNALS, LabelSignals
from gl_csm.domain.rules import DEFAULT_RULES

TODAY = date(2026, 11, 23)
COLORS = ("green", "yellow", "red")


def _day(back: int, ahead: int = 0) -> st.SearchStrategy[date]:
    return st.integers(-back, ahead).map(lambda d: TODAY + timedelta(days=d))


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


ratio = st.floats(0, 1, allow_nan=False)


@st.composite
def account_data(draw: st.DrawFn) -> dict[str, Any]:
    licensed = draw(st.integers(0, 5000))
    data: dict[str, Any] = {
        "name": "Generated",
        "segment": draw(st.sampled_from(("strategic", "growth", "scale", "commercial"))),
        "customer_since": draw(_optional(_day(2000, 30))),
        "onboarding_completed": draw(_optional(_day(2000))),
        "arr": draw(_optional(st.integers(0, 2_000_000))),
        "digital": draw(st.booleans()),
        "parent": draw(_optional(st.just("parent-co"))),
        "managed": draw(st.booleans()),
        "deployment": draw(_optional(st.sampled_from(("self-managed", "saas", "dedicated")))),
        "version": draw(
            _optional(
                st.fixed_dictionaries(
                    {
                        "current": st.sampled_from(("14.1", "15.9", "16.4", "17.5")),
                        "latest": st.just("17.6"),
                    }
                )
            )
        ),
        "seats": draw(
            _optional(
                st.fixed_dictionaries(
                    {"licensed": st.just(licensed), "active": st.integers(0, licensed + 50)}
                )
            )
        ),
        "usage": draw(
            _optional(
                st.fixed_dictionaries(
                    {"as_of": _day(120)},
                    optional={k: ratio for k in ("monthly_active", "scm", "ci", "devsecops", "cd")},
                )
            )
        ),
        "opportunities": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(("uptier", "growth")), "close_date": _day(60, 400)}
                ),
                max_size=2,
            )
        ),
        "growth_intent": draw(st.booleans()),
        "success_plan": draw(
            _optional(
                st.fixed_dictionaries(
                    {
                        "objectives": st.integers(0, 6),
                        "critical_initiative": st.booleans(),
                        "active_use_case_planning": st.booleans(),
                    }
                )
            )
        ),
        "stages_adopted": draw(
            _optional(st.lists(st.sampled_from(("create", "verify", "plan")), max_size=3))
        ),
        "engagement": draw(
            _optional(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "last_call": _day(200),
                        "contacts": st.integers(0, 6),
                        "personas_last_90_days": st.lists(
                            st.sampled_from(("development-lead", "security-lead")), max_size=2
                        ),
                    },
                )
            )
        ),
        "champion_left": draw(st.booleans()),
        "support": draw(
            _optional(
                st.fixed_dictionaries(
                    {"as_of": _day(60)},
                    optional={
                        "tickets_last_30_days": st.integers(0, 30),
                        "advised_no_ticket": st.booleans(),
                        "emergency_open": st.booleans(),
                        "emergency_closed_last_7_days": st.booleans(),
                    },
                )
            )
        ),
        "nps": draw(_optional(st.integers(0, 10))),
        "key_logo": draw(st.booleans()),
        "channel_engaged": draw(st.booleans()),
        "sentiment": draw(
            _optional(
                st.fixed_dictionaries(
                    {
                        "health": st.sampled_from(COLORS),
                        "needs_triage": st.booleans(),
                        "updated": _day(200),
                    }
                )
            )
        ),
        "risk": draw(_optional(st.fixed_dictionaries({"contraction": st.booleans()}))),
        "exception": draw(
            _optional(
                st.fixed_dictionaries({"priority": st.integers(1, 4), "reason": st.just("agreed")})
            )
        ),
    }
    return {k: v for k, v in data.items() if v is not None}


signals = st.builds(
    LabelSignals,
    sentiment=st.none() | st.sampled_from(COLORS),
    triage_needed=st.booleans(),
)


def run(data: dict[str, Any], sig: LabelSignals = NO_SIGNALS) -> Assessment:
    return assess(parse_account(data, "accounts/gen.yml", "gen"), DEFAULT_RULES, TODAY, sig)


@settings(max_examples=300)
@given(account_data(), signals)
def test_unknown_only_when_no_measure_has_data(data: dict[str, Any], sig: LabelSignals) -> None:
    a = run(data, sig)
    if a.health is None:
        assert "customer_since" not in data
        return
    if a.health.color == "unknown":
        assert not any(m.has_data for m in a.health.measures)
        assert a.health.score is None
    if not any(m.has_data for m in a.health.measures):
        assert a.health.color in ("unknown", "red")  # red only by contraction


@settings(max_examples=300)
@given(account_data(), signals)
def test_red_sentiment_not_past_120_days_is_always_red(
    data: dict[str, Any], sig: LabelSignals
) -> None:
    a = run(data, sig)
    if a.health is None:
        return
    if sig.sentiment == "red":
        assert a.health.color == "red"
    elif sig.sentiment is None and data.get("sentiment", {}).get("health") == "red":
        age = (TODAY - data["sentiment"]["updated"]).days
        if age < 120:
            assert a.health.color == "red"


def _worsen(data: dict[str, Any], which: int) -> dict[str, Any] | None:
    """One measure's input made worse (or None when that measure has no input)."""
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if which == 0 and "seats" in d:
        d["seats"]["active"] = d["seats"]["active"] // 2
    elif which == 1 and "usage" in d and d["usage"].get("scm") is not None:
        d["usage"]["scm"] = d["usage"]["scm"] / 3
    elif which == 2 and "support" in d and "tickets_last_30_days" in d["support"]:
        d["support"]["tickets_last_30_days"] += 7
    elif which == 3 and "engagement" in d and "last_call" in d["engagement"]:
        d["engagement"]["last_call"] -= timedelta(days=40)
    elif which == 4 and "success_plan" in d:
        d["success_plan"]["objectives"] = max(d["success_plan"]["objectives"] - 1, 0)
    elif which == 5 and "sentiment" in d:
        d["sentiment"]["health"] = {"green": "yellow", "yellow": "red", "red": "red"}[
            d["sentiment"]["health"]
        ]
    elif which == 6 and "engagement" in d and d["engagement"].get("personas_last_90_days"):
        d["engagement"]["personas_last_90_days"] = d["engagement"]["personas_last_90_days"][1:]
    elif which == 7 and "usage" in d and d["usage"].get("monthly_active") is not None:
        d["usage"]["monthly_active"] = 0.0
    else:
        return None
    return d


@settings(max_examples=400)
@given(account_data(), st.integers(0, 7))
def test_making_one_measure_worse_never_raises_the_score(data: dict[str, Any], which: int) -> None:
    worse = _worsen(data, which)
    if worse is None:
        return
    before, after = run(data), run(worse)
    if before.score is None or after.score is None:
        return
    assert after.score <= before.score + 1e-9


@settings(max_examples=300)
@given(account_data(), signals)
def test_priority_is_1_to_4_or_none_only_for_pre_sales(
    data: dict[str, Any], sig: LabelSignals
) -> None:
    a = run(data, sig)
    for p in (a.priority.priority, a.base_priority.priority):
        if "customer_since" in data:
            assert p in (1, 2, 3, 4)
        else:
            assert p is None
    assert a.priority.reasons
    # The at-risk rule can only raise the priority (lower number) or leave it.
    if a.priority.priority is not None:
        assert a.priority.priority <= a.base_priority.priority  # type: ignore[operator]
