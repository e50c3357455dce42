"""SPEC 4 health: each measure's boundaries, staleness, weights, overrides, labels."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gl_csm.domain.health import LabelSignals, assess_health, utilization_pct
from gl_csm.domain.rules import DEFAULT_RULES, rules_from_mapping

from .factories import TODAY, account, days_ago, days_ahead, health_of, measure, months_ago

# ---------------------------------------------------------------- license utilization


@pytest.mark.parametrize(
    ("months", "pct", "color"),
    [
        pytest.param(0, 90, None, id="spec4-license-month-0-no-data"),
        pytest.param(1, 90, None, id="spec4-license-month-1-no-data"),
        pytest.param(2, 50, "yellow", id="spec4-license-month-2-has-data"),
        pytest.param(5, 9, "red", id="spec4-license-m5-9pct-red"),
        pytest.param(5, 10, "yellow", id="spec4-license-m5-10pct-yellow"),
        pytest.param(5, 50, "yellow", id="spec4-license-m5-50pct-yellow"),
        pytest.param(5, 51, "green", id="spec4-license-m5-51pct-green"),
        pytest.param(5, 75, "green", id="spec4-license-m5-75pct-green"),
        pytest.param(5, 76, "green", id="spec4-license-m5-76pct-green"),
        pytest.param(6, 50, "red", id="spec4-license-m6-50pct-red"),
        pytest.param(6, 51, "yellow", id="spec4-license-m6-51pct-yellow"),
        pytest.param(6, 75, "yellow", id="spec4-license-m6-75pct-yellow"),
        pytest.param(6, 76, "green", id="spec4-license-m6-76pct-green"),
        pytest.param(8, 50, "red", id="spec4-license-m8-50pct-red"),
        pytest.param(8, 51, "yellow", id="spec4-license-m8-51pct-yellow"),
        pytest.param(8, 75, "yellow", id="spec4-license-m8-75pct-yellow"),
        pytest.param(8, 76, "green", id="spec4-license-m8-76pct-green"),
        pytest.param(9, 50, "red", id="spec4-license-m9-50pct-red"),
        pytest.param(9, 51, "red", id="spec4-license-m9-51pct-red"),
        pytest.param(9, 75, "red", id="spec4-license-m9-75pct-red"),
        pytest.param(9, 76, "green", id="spec4-license-m9-76pct-green"),
        pytest.param(40, 100, "green", id="spec4-license-m40-full-green"),
    ],
)
def test_license_utilization(months: int, pct: int, color: str | None) -> None:
    h = health_of(customer_since=months_ago(months), seats={"licensed": 100, "active": pct})
    m = measure(h, "license_utilization")
    assert m.color == color
    if color is not None:
        assert m.value == pct


@pytest.mark.parametrize(
    ("active", "licensed", "pct"),
    [
        pytest.param(101, 200, 51, id="spec4-license-rounds-50.5-up"),
        pytest.param(201, 400, 50, id="spec4-license-rounds-50.25-down"),
        pytest.param(1503, 2000, 75, id="spec4-license-rounds-75.15-down"),
        pytest.param(151, 200, 76, id="spec4-license-rounds-75.5-up"),
    ],
)
def test_license_utilization_rounds_to_whole_percent(active: int, licensed: int, pct: int) -> None:
    assert utilization_pct(active, licensed) == pct
    h = health_of(customer_since=months_ago(7), seats={"licensed": licensed, "active": active})
    # Seven months a customer: green from 76 %, yellow from 51 %, else red.
    expected = "green" if pct >= 76 else "yellow" if pct >= 51 else "red"
    assert measure(h, "license_utilization").color == expected


def test_license_utilization_without_licensed_seats_has_no_data() -> None:
    assert (
        measure(health_of(seats={"licensed": 0, "active": 0}), "license_utilization").color is None
    )
    assert measure(health_of(seats={"active": 10}), "license_utilization").color is None


# ---------------------------------------------------------------- usage ratios


@pytest.mark.parametrize(
    ("name", "field", "value", "color"),
    [
        pytest.param("user_engagement", "monthly_active", 0.50, "green", id="spec4-mau-0.50-green"),
        pytest.param(
            "user_engagement", "monthly_active", 0.49, "yellow", id="spec4-mau-0.49-yellow"
        ),
        pytest.param(
            "user_engagement", "monthly_active", 0.25, "yellow", id="spec4-mau-0.25-yellow"
        ),
        pytest.param("user_engagement", "monthly_active", 0.24, "red", id="spec4-mau-0.24-red"),
        pytest.param("scm", "scm", 0.40, "green", id="spec4-scm-0.40-green"),
        pytest.param("scm", "scm", 0.20, "yellow", id="spec4-scm-0.20-yellow"),
        pytest.param("scm", "scm", 0.19, "red", id="spec4-scm-0.19-red"),
        pytest.param("ci", "ci", 0.25, "green", id="spec4-ci-0.25-green"),
        pytest.param("ci", "ci", 0.125, "yellow", id="spec4-ci-0.125-yellow"),
        pytest.param("ci", "ci", 0.12, "red", id="spec4-ci-0.12-red"),
        pytest.param("devsecops", "devsecops", 0.20, "green", id="spec4-devsecops-0.20-green"),
        pytest.param("devsecops", "devsecops", 0.10, "yellow", id="spec4-devsecops-0.10-yellow"),
        pytest.param("devsecops", "devsecops", 0.09, "red", id="spec4-devsecops-0.09-red"),
        pytest.param("cd", "cd", 0.20, "green", id="spec4-cd-0.20-green"),
        pytest.param("cd", "cd", 0.10, "yellow", id="spec4-cd-0.10-yellow"),
        pytest.param("cd", "cd", 0.0, "red", id="spec4-cd-0-red"),
    ],
)
def test_usage_measures(name: str, field: str, value: float, color: str) -> None:
    h = health_of(usage={"as_of": days_ago(1), field: value})
    assert measure(h, name).color == color


@pytest.mark.parametrize(
    ("age", "has_data"),
    [
        pytest.param(59, True, id="spec4-usage-59-days-old-has-data"),
        pytest.param(60, False, id="spec4-usage-60-days-old-stale"),
    ],
)
def test_usage_staleness(age: int, has_data: bool) -> None:
    h = health_of(usage={"as_of": days_ago(age), "scm": 0.5, "ci": 0.5})
    assert measure(h, "scm").has_data is has_data
    assert measure(h, "ci").has_data is has_data
    assert (h.color == "green") is has_data


def test_usage_staleness_does_not_touch_license_utilization() -> None:
    h = health_of(usage={"as_of": days_ago(200), "scm": 0.5}, seats={"licensed": 10, "active": 9})
    assert measure(h, "license_utilization").color == "green"
    assert measure(h, "scm").color is None


# ---------------------------------------------------------------- outcomes and support


@pytest.mark.parametrize(
    ("objectives", "color"),
    [
        pytest.param(0, "red", id="spec4-objectives-0-red"),
        pytest.param(1, "yellow", id="spec4-objectives-1-yellow"),
        pytest.param(2, "yellow", id="spec4-objectives-2-yellow"),
        pytest.param(3, "green", id="spec4-objectives-3-green"),
    ],
)
def test_success_plan(objectives: int, color: str) -> None:
    h = health_of(success_plan={"objectives": objectives})
    assert measure(h, "success_plan").color == color


@pytest.mark.parametrize(
    ("support", "color"),
    [
        pytest.param({"tickets_last_30_days": 0}, "green", id="spec4-support-0-green"),
        pytest.param({"tickets_last_30_days": 5}, "green", id="spec4-support-5-green"),
        pytest.param({"tickets_last_30_days": 6}, "yellow", id="spec4-support-6-yellow"),
        pytest.param({"tickets_last_30_days": 15}, "yellow", id="spec4-support-15-yellow"),
        pytest.param({"tickets_last_30_days": 16}, "red", id="spec4-support-16-red"),
        pytest.param(
            {"tickets_last_30_days": 0, "advised_no_ticket": True},
            "yellow",
            id="spec4-support-advised-no-ticket-yellow",
        ),
        pytest.param(
            {"tickets_last_30_days": 3, "advised_no_ticket": True},
            "green",
            id="spec4-support-advised-with-tickets-green",
        ),
        pytest.param(
            {"tickets_last_30_days": 2, "emergency_closed_last_7_days": True},
            "yellow",
            id="spec4-support-emergency-closed-yellow",
        ),
        pytest.param(
            {"tickets_last_30_days": 2, "emergency_open": True},
            "red",
            id="spec4-support-emergency-open-red",
        ),
        pytest.param({"emergency_open": True}, "red", id="spec4-support-emergency-without-count"),
        pytest.param({}, None, id="spec4-support-no-data"),
    ],
)
def test_support(support: dict[str, Any], color: str | None) -> None:
    h = health_of(support={"as_of": days_ago(1), **support})
    assert measure(h, "support").color == color


@pytest.mark.parametrize(
    ("age", "has_data"),
    [
        pytest.param(29, True, id="spec4-support-29-days-old-has-data"),
        pytest.param(30, False, id="spec4-support-30-days-old-stale"),
    ],
)
def test_support_staleness(age: int, has_data: bool) -> None:
    h = health_of(support={"as_of": days_ago(age), "tickets_last_30_days": 1})
    assert measure(h, "support").has_data is has_data


# ---------------------------------------------------------------- engagement


@pytest.mark.parametrize(
    ("arr", "days", "color"),
    [
        pytest.param(600000, 35, "green", id="spec4-cadence-p1-35-green"),
        pytest.param(600000, 36, "yellow", id="spec4-cadence-p1-36-yellow"),
        pytest.param(600000, 60, "yellow", id="spec4-cadence-p1-60-yellow"),
        pytest.param(600000, 61, "red", id="spec4-cadence-p1-61-red"),
        pytest.param(100000, 65, "green", id="spec4-cadence-p2-65-green"),
        pytest.param(100000, 66, "yellow", id="spec4-cadence-p2-66-yellow"),
        pytest.param(100000, 90, "yellow", id="spec4-cadence-p2-90-yellow"),
        pytest.param(100000, 91, "red", id="spec4-cadence-p2-91-red"),
        pytest.param(100000, 0, "green", id="spec4-cadence-call-today"),
    ],
)
def test_meeting_cadence_by_base_priority(arr: int, days: int, color: str) -> None:
    # A strategic account at or above 500000 ARR is P1, below it P2 (SPEC 3).
    h = health_of(arr=arr, engagement={"last_call": days_ago(days)})
    m = measure(h, "meeting_cadence")
    assert (m.color, m.value) == (color, days)


@pytest.mark.parametrize(
    ("priority_keys", "days", "color"),
    [
        pytest.param({"digital": True}, 66, "yellow", id="spec4-cadence-p4-uses-p2-plus"),
        pytest.param(
            {"parent": "acme", "managed": False}, 65, "green", id="spec4-cadence-p3-uses-p2-plus"
        ),
    ],
)
def test_meeting_cadence_p3_p4(priority_keys: dict[str, Any], days: int, color: str) -> None:
    h = health_of(engagement={"last_call": days_ago(days)}, **priority_keys)
    assert measure(h, "meeting_cadence").color == color


def test_meeting_cadence_none_recorded_is_red() -> None:
    h = health_of(engagement={"contacts": 3})
    assert measure(h, "meeting_cadence").color == "red"


def test_no_engagement_section_is_no_data() -> None:
    h = health_of(sentiment={"health": "green", "updated": days_ago(1)})
    assert measure(h, "meeting_cadence").color is None
    assert measure(h, "persona_engagement").color is None


def test_future_call_date_counts_as_today() -> None:
    h = health_of(engagement={"last_call": days_ahead(3)})
    assert measure(h, "meeting_cadence").color == "green"


@pytest.mark.parametrize(
    ("personas", "color"),
    [
        pytest.param(["development-lead", "security-lead"], "green", id="spec4-personas-both"),
        pytest.param(["security-lead"], "yellow", id="spec4-personas-one"),
        pytest.param(["development-lead", "development-lead"], "yellow", id="spec4-personas-dup"),
        pytest.param([], "red", id="spec4-personas-none"),
    ],
)
def test_persona_engagement(personas: list[str], color: str) -> None:
    h = health_of(engagement={"last_call": days_ago(1), "personas_last_90_days": personas})
    assert measure(h, "persona_engagement").color == color


# ---------------------------------------------------------------- sentiment and labels


@pytest.mark.parametrize(
    ("age", "has_data", "stale"),
    [
        pytest.param(89, True, False, id="spec4-sentiment-89-days-fresh"),
        pytest.param(90, True, True, id="spec4-sentiment-90-days-flagged-stale"),
        pytest.param(119, True, True, id="spec4-sentiment-119-days-still-counts"),
        pytest.param(120, False, False, id="spec4-sentiment-120-days-no-data"),
    ],
)
def test_sentiment_staleness(age: int, has_data: bool, stale: bool) -> None:
    h = health_of(sentiment={"health": "yellow", "updated": days_ago(age)})
    assert measure(h, "sentiment").has_data is has_data
    assert h.sentiment_stale is stale
    assert h.color == ("yellow" if has_data else "unknown")


def test_sentiment_without_update_date_counts_but_is_flagged() -> None:
    h = health_of(sentiment={"health": "green"})
    assert measure(h, "sentiment").color == "green"
    assert h.sentiment_stale


@pytest.mark.parametrize(
    ("registry", "label", "color"),
    [
        pytest.param("green", "red", "red", id="spec4-label-sentiment-wins"),
        pytest.param("red", "green", "green", id="spec4-label-sentiment-lifts"),
        pytest.param(None, "yellow", "yellow", id="spec4-label-without-registry-sentiment"),
    ],
)
def test_sentiment_label_overrides_registry(registry: str | None, label: str, color: str) -> None:
    keys: dict[str, Any] = {}
    if registry:
        keys["sentiment"] = {"health": registry, "updated": days_ago(1)}
    h = health_of(signals=LabelSignals(sentiment=label), **keys)
    assert measure(h, "sentiment").color == label
    assert h.color == color and h.sentiment_from_label


def test_sentiment_label_is_fresh_even_when_registry_is_old() -> None:
    h = health_of(
        signals=LabelSignals(sentiment="red"),
        sentiment={"health": "green", "updated": days_ago(400)},
    )
    assert h.color == "red" and not h.sentiment_stale


# ---------------------------------------------------------------- first 30 days, unknown


@pytest.mark.parametrize(
    ("days", "others_have_data"),
    [
        pytest.param(29, False, id="spec4-first-30-days-day-29-no-data"),
        pytest.param(30, True, id="spec4-first-30-days-day-30-has-data"),
    ],
)
def test_first_30_days_only_sentiment(days: int, others_have_data: bool) -> None:
    h = health_of(
        customer_since=days_ago(days),
        onboarding_completed=None,
        sentiment={"health": "green", "updated": days_ago(1)},
        success_plan={"objectives": 0},
        support={"as_of": days_ago(1), "tickets_last_30_days": 20},
        engagement={"last_call": days_ago(1), "personas_last_90_days": []},
        usage={
            "as_of": days_ago(1),
            "monthly_active": 0.0,
            "scm": 0.0,
            "ci": 0.0,
            "devsecops": 0.0,
            "cd": 0.0,
        },
        seats={"licensed": 10, "active": 0},
        nps=3,
    )
    assert measure(h, "sentiment").color == "green"
    # License utilization has no data in months 0-2 anyway.
    others = [m for m in h.measures if m.name not in ("sentiment", "license_utilization")]
    assert all(m.has_data is others_have_data for m in others)
    assert h.color == ("red" if others_have_data else "green")


def test_first_30_days_without_sentiment_is_unknown() -> None:
    h = health_of(customer_since=days_ago(10), success_plan={"objectives": 3})
    assert (h.color, h.score) == ("unknown", None)


def test_measureless_account_is_unknown() -> None:
    h = health_of()
    assert h.color == "unknown" and h.score is None and not h.has_data
    assert all(g.score is None for g in h.groups)


def test_pre_sales_has_no_health() -> None:
    acct = account(customer_since=None, sentiment={"health": "red", "updated": days_ago(1)})
    assert assess_health(acct, DEFAULT_RULES, TODAY, base_priority=None) is None


# ---------------------------------------------------------------- score, weights


@pytest.mark.parametrize(
    ("keys", "score", "color"),
    [
        pytest.param(
            {"seats": {"licensed": 100, "active": 90}, "usage": {"monthly_active": 0.1}},
            75.0,
            "green",
            id="spec4-score-75-is-green",
        ),
        pytest.param(
            {"seats": {"licensed": 100, "active": 90}, "usage": {"monthly_active": 0.3}},
            90.0,
            "green",
            id="spec4-score-license-green-mau-yellow",
        ),
        pytest.param(
            {"engagement": {"last_call": days_ago(1), "personas_last_90_days": []}},
            50.0,
            "yellow",
            id="spec4-score-50-is-yellow",
        ),
        pytest.param(
            {"engagement": {"last_call": days_ago(70), "personas_last_90_days": []}},
            30.0,
            "red",
            id="spec4-score-30-is-red",
        ),
        pytest.param(
            {"engagement": {"last_call": days_ago(70), "personas_last_90_days": ["security-lead"]}},
            60.0,
            "yellow",
            id="spec4-score-all-yellow-60",
        ),
    ],
)
def test_score_thresholds(keys: dict[str, Any], score: float, color: str) -> None:
    h = health_of(**keys)
    assert h.score == pytest.approx(score)
    assert h.scorecard_color == color == h.color


def test_missing_measure_weight_is_shared_within_group() -> None:
    # Product: license (30) red and SCM (15) green, the other four have no data.
    h = health_of(seats={"licensed": 100, "active": 5}, usage={"as_of": days_ago(1), "scm": 0.9})
    assert measure(h, "license_utilization").applied_weight == pytest.approx(200 / 3)
    assert measure(h, "scm").applied_weight == pytest.approx(100 / 3)
    assert measure(h, "ci").applied_weight == 0
    product = next(g for g in h.groups if g.name == "product")
    assert product.score == pytest.approx(100 / 3)


def test_missing_group_weight_is_shared_among_groups() -> None:
    # Product 50 at 0, Risk 25 at 100 -> 33.3 (red); other groups left out.
    h = health_of(
        seats={"licensed": 100, "active": 5},
        sentiment={"health": "green", "updated": days_ago(1)},
    )
    assert h.score == pytest.approx(25 * 100 / 75)
    assert h.color == "red"


def test_full_scorecard_weights() -> None:
    h = health_of(
        seats={"licensed": 100, "active": 90},
        usage={
            "as_of": days_ago(1),
            "monthly_active": 0.9,
            "scm": 0.9,
            "ci": 0.9,
            "devsecops": 0.9,
            "cd": 0.0,
        },
        sentiment={"health": "green", "updated": days_ago(1)},
        success_plan={"objectives": 1},
        support={"as_of": days_ago(1), "tickets_last_30_days": 20},
        engagement={
            "last_call": days_ago(1),
            "contacts": 4,
            "personas_last_90_days": ["development-lead", "security-lead"],
        },
    )
    applied = {m.name: m.applied_weight for m in h.measures}
    assert applied == {
        "license_utilization": 30,
        "user_engagement": 10,
        "scm": 15,
        "ci": 15,
        "devsecops": 15,
        "cd": 15,
        "sentiment": 100,
        "success_plan": 100,
        # No NPS answer: support carries the whole voice group (SPEC 4: weight shared out).
        "support": 100,
        "nps": 0,
        "meeting_cadence": 50,
        "persona_engagement": 50,
    }
    # product 85, risk 100, outcomes 60, voice 0, engagement 100
    assert h.score == pytest.approx((50 * 85 + 25 * 100 + 10 * 60 + 5 * 0 + 10 * 100) / 100)


def test_weights_and_thresholds_are_config() -> None:
    rules = rules_from_mapping(
        {"health": {"score": {"green_min": 90}, "weights": {"engagement": {"meeting_cadence": 0}}}}
    )
    acct = account(
        engagement={"last_call": days_ago(1), "personas_last_90_days": ["security-lead"]}
    )
    h = assess_health(acct, rules, TODAY, base_priority=2)
    assert h is not None and h.score == pytest.approx(60)


# ---------------------------------------------------------------- overrides


GREEN_KEYS: dict[str, Any] = {
    "seats": {"licensed": 100, "active": 90},
    "sentiment": {"health": "green", "updated": days_ago(1)},
    "engagement": {"last_call": days_ago(1), "contacts": 4},
}


@pytest.mark.parametrize(
    ("keys", "color", "override"),
    [
        pytest.param({}, "green", None, id="spec4-no-override"),
        pytest.param(
            {
                "seats": {"licensed": 100, "active": 95},
                "sentiment": {"health": "red", "updated": days_ago(119)},
            },
            "red",
            "red CSM sentiment",
            id="spec4-override-red-sentiment",
        ),
        pytest.param(
            {"sentiment": {"health": "red", "updated": days_ago(120)}},
            "green",
            None,
            id="spec4-override-red-sentiment-past-120-days-ignored",
        ),
        pytest.param(
            {"risk": {"contraction": True}},
            "red",
            "potential contraction",
            id="spec4-override-contraction",
        ),
        pytest.param(
            {"deployment": "self-managed", "version": {"current": "15.11", "latest": "17.5"}},
            "yellow",
            "more than a major release behind",
            id="spec4-override-version-2-majors-behind",
        ),
        pytest.param(
            {"deployment": "self-managed", "version": {"current": "16.3", "latest": "17.5"}},
            "yellow",
            "version 16.3 is more than a major release behind 17.5",
            id="spec4-override-version-16.3-against-17.5-flagged",
        ),
        pytest.param(
            {"deployment": "self-managed", "version": {"current": "16.4.2", "latest": "17.5"}},
            "yellow",
            "more than a major release behind",
            id="spec4-override-version-16.4-against-17.5-flagged",
        ),
        pytest.param(
            {"deployment": "self-managed", "version": {"current": "16.5", "latest": "17.5"}},
            "green",
            None,
            id="spec4-override-version-16.5-against-17.5-no-flag",
        ),
        pytest.param(
            {"deployment": "self-managed", "version": {"current": "17.0", "latest": "17.5"}},
            "green",
            None,
            id="spec4-override-version-same-major-no-flag",
        ),
        pytest.param(
            {"deployment": "saas", "version": {"current": "14.0", "latest": "17.5"}},
            "green",
            None,
            id="spec4-override-version-only-self-managed",
        ),
        pytest.param(
            {"engagement": {"last_call": days_ago(1), "contacts": 1}},
            "yellow",
            "single contact",
            id="spec4-override-single-contact",
        ),
        pytest.param(
            {"champion_left": True}, "yellow", "champion left", id="spec4-override-champion"
        ),
    ],
)
def test_overrides(keys: dict[str, Any], color: str, override: str | None) -> None:
    h = health_of(**{**GREEN_KEYS, **keys})
    assert h.color == color
    if override is None:
        assert h.overrides == ()
    else:
        assert any(override in o for o in h.overrides), h.overrides


def test_yellow_flags_do_not_lift_a_red_account() -> None:
    h = health_of(**{**GREEN_KEYS, "risk": {"contraction": True}, "champion_left": True})
    assert h.color == "red"
    assert len(h.overrides) == 1 and "contraction" in h.overrides[0]


def test_yellow_flags_do_not_touch_a_yellow_account() -> None:
    h = health_of(
        # Product: license red (30) + SCM green (15) = 33.3; Risk green 100 -> 55.6 yellow.
        seats={"licensed": 100, "active": 30},
        usage={"as_of": days_ago(1), "scm": 0.9},
        sentiment={"health": "green", "updated": days_ago(1)},
        champion_left=True,
    )
    assert h.scorecard_color == "yellow" and h.color == "yellow" and h.overrides == ()


def test_overrides_apply_in_order() -> None:
    h = health_of(
        **{**GREEN_KEYS, "sentiment": {"health": "red", "updated": days_ago(1)}},
        risk={"contraction": True},
    )
    assert [o.split(" ")[0] for o in h.overrides] == ["red", "potential"]


def test_contraction_makes_unknown_red() -> None:
    h = health_of(risk={"contraction": True})
    assert (h.scorecard_color, h.color, h.score) == ("unknown", "red", None)


def test_every_yellow_flag_is_listed() -> None:
    h = health_of(
        **{
            **GREEN_KEYS,
            "champion_left": True,
            "engagement": {"last_call": days_ago(1), "contacts": 1},
        }
    )
    assert h.color == "yellow" and len(h.overrides) == 2


def test_health_takes_the_date_as_parameter() -> None:
    # The same account on another day: the call becomes old, the color changes.
    acct = account(arr=100000, engagement={"last_call": date(2026, 11, 1)})
    early = assess_health(acct, DEFAULT_RULES, date(2026, 11, 2), base_priority=2)
    late = assess_health(acct, DEFAULT_RULES, date(2027, 3, 1), base_priority=2)
    assert early is not None and late is not None
    assert (early.color, late.color) == ("green", "red")


def test_label_signals_accept_only_colors() -> None:
    with pytest.raises(ValueError, match="purple"):
        LabelSignals(sentiment="purple")


# ---------------------------------------------------------------- NPS (SPEC 4 voice group)


@pytest.mark.parametrize(
    ("nps", "color"),
    [
        pytest.param(10, "green", id="spec4-nps-10-green"),
        pytest.param(9, "green", id="spec4-nps-9-green"),
        pytest.param(8, "yellow", id="spec4-nps-8-yellow"),
        pytest.param(7, "yellow", id="spec4-nps-7-yellow"),
        pytest.param(6, "red", id="spec4-nps-6-red"),
        pytest.param(0, "red", id="spec4-nps-0-red"),
        pytest.param(None, None, id="spec4-nps-none-no-data"),
    ],
)
def test_nps_measure(nps: int | None, color: str | None) -> None:
    assert measure(health_of(nps=nps), "nps").color == color


@pytest.mark.parametrize(
    ("age", "has_data"),
    [
        pytest.param(364, True, id="spec4-nps-364-days-old-has-data"),
        pytest.param(365, False, id="spec4-nps-365-days-old-no-data"),
    ],
)
def test_nps_staleness(age: int, has_data: bool) -> None:
    assert measure(health_of(nps=9, nps_as_of=days_ago(age)), "nps").has_data is has_data


def test_a_detractor_pulls_a_strategic_account_down() -> None:
    """A strategic account with NPS 2 no longer scores a perfect green 100: the voice
    group shares support (green) and NPS (red) half and half."""
    h = health_of(
        support={"as_of": days_ago(1), "tickets_last_30_days": 1},
        nps=2,
        nps_as_of=days_ago(10),
    )
    voice = next(g for g in h.groups if g.name == "voice")
    assert voice.score == pytest.approx(50)
    assert measure(h, "nps").note == f"2 out of 10 (survey of {days_ago(10).isoformat()})"
