"""`rules:` overlay (SPEC 8): defaults, partial overrides, errors that name the key."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gl_csm.domain.rules import DEFAULT_RULES, Rules, describe_rules, rules_from_mapping
from gl_csm.errors import ConfigError


def test_defaults_match_the_spec() -> None:
    r = Rules()
    assert r.onboarding_window_days.commercial == 45
    assert (r.onboarding_window_days.strategic, r.onboarding_window_days.growth) == (60, 60)
    assert r.onboarding_window_days.scale == 60
    assert r.priority.strategic.p1_arr == 500000
    assert r.priority.commercial.p1_arr == 200000
    assert r.priority.commercial.min_stages == 2
    bb = r.book_balance
    assert (bb.strategic_p1_min_pct, bb.strategic_p1_max_pct, bb.growth_p1_max_pct) == (25, 45, 20)
    h = r.health
    assert dataclasses.asdict(h.group_weights) == {
        "product": 50,
        "risk": 25,
        "outcomes": 10,
        "voice": 5,
        "engagement": 10,
    }
    assert dataclasses.asdict(h.weights.product) == {
        "license_utilization": 30,
        "user_engagement": 10,
        "scm": 15,
        "ci": 15,
        "devsecops": 15,
        "cd": 15,
    }
    assert (h.score.green_min, h.score.yellow_min) == (75, 50)
    assert dataclasses.asdict(h.color_scores) == {"green": 100, "yellow": 60, "red": 0}
    sd = h.staleness_days
    assert (sd.new_customer_no_data, sd.usage, sd.support, sd.nps) == (30, 60, 30, 365)
    assert (sd.sentiment_stale, sd.sentiment_no_data) == (90, 120)
    assert (h.weights.voice.support, h.weights.voice.nps) == (50, 50)
    assert (h.thresholds.nps.green_min, h.thresholds.nps.yellow_min) == (9, 7)
    assert h.yellow_flags.version_majors_behind == 1
    mc = h.thresholds.meeting_cadence
    assert (mc.p1.green_max_days, mc.p1.yellow_max_days) == (35, 60)
    assert (mc.p2.green_max_days, mc.p2.yellow_max_days) == (65, 90)
    c = r.cadence
    assert (c.at_risk_update_days.renewal_soon, c.at_risk_update_days.otherwise) == (7, 30)
    rr, ebr = r.reminder("renewal-review"), r.reminder("ebr")
    assert (rr.window_months, rr.months) == (6, (-5, -3))
    assert (ebr.months, ebr.every_months, ebr.lead_days) == ((6,), 12, 90)
    pr, onboarding = r.reminder("priority-review"), r.reminder("onboarding-end")
    assert (pr.per, pr.days_after) == ("csm", 30)
    assert (onboarding.post, onboarding.grace_days) == ("note", 30)
    assert c.stale_health_days == 30
    assert dataclasses.astuple(c.escalation_update_days) == (1, 2, 7, None)
    assert r.fiscal_year_start_month == 2
    assert (r.pacing.issues_per_minute, r.pacing.notes_per_minute) == (200, 60)


@pytest.mark.parametrize("mapping", [None, {}], ids=["config-none", "config-empty"])
def test_no_rules_gives_defaults(mapping: dict[str, Any] | None) -> None:
    assert rules_from_mapping(mapping) == DEFAULT_RULES


def test_partial_overlay_keeps_other_defaults() -> None:
    r = rules_from_mapping(
        {
            "health": {"weights": {"product": {"scm": 20}}},
            "onboarding_window_days": {"commercial": 30},
            "cadence": {"escalation_update_days": {"low": 14, "critical": None}},
            "fiscal_year_start_month": 1,
        }
    )
    assert r.health.weights.product.scm == 20
    assert r.health.weights.product.ci == 15
    assert r.onboarding_window_days.commercial == 30
    assert r.onboarding_window_days.strategic == 60
    assert r.cadence.escalation_update_days.low == 14
    assert r.cadence.escalation_update_days.critical is None
    assert r.fiscal_year_start_month == 1


def test_lists_replace_defaults() -> None:
    r = rules_from_mapping(
        {
            "reminders": {"renewal-review": {"months": [-4]}},
            "health": {
                "thresholds": {
                    "license_utilization": {
                        "bands": [{"from_month": 3, "green_min_pct": 60, "yellow_min_pct": 20}]
                    }
                }
            },
        }
    )
    assert r.reminder("renewal-review").months == (-4,)
    assert r.reminder("renewal-review").window_months == 6  # the entry's other fields kept
    assert len(r.health.thresholds.license_utilization.bands) == 1


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        pytest.param(
            {"health": {"weights": {"product": {"scm": "x"}}}},
            "rules.health.weights.product.scm: expected a number >= 0, got 'x'",
            id="config-wrong-type-names-full-key",
        ),
        pytest.param(
            {"health": {"weights": {"product": {"scm": -1}}}},
            "rules.health.weights.product.scm: expected a number >= 0, got -1",
            id="config-negative-weight",
        ),
        pytest.param(
            {"health": {"weights": {"product": {"scm": True}}}},
            "rules.health.weights.product.scm: expected a number >= 0, got true",
            id="config-bool-is-not-a-number",
        ),
        pytest.param(
            {"onboarding_window_days": {"commercial": 4.5}},
            "rules.onboarding_window_days.commercial: expected an integer >= 0, got 4.5",
            id="config-float-for-days",
        ),
        pytest.param(
            {"health": {"weights": {"product": {"sccm": 1}}}},
            "rules.health.weights.product.sccm: unknown key",
            id="config-unknown-nested-key",
        ),
        pytest.param({"colour": 1}, "rules.colour: unknown key", id="config-unknown-top-key"),
        pytest.param(
            {"health": 3},
            "rules.health: expected a mapping, got 3",
            id="config-section-not-a-mapping",
        ),
        pytest.param([1], "rules: expected a mapping", id="config-rules-not-a-mapping"),
        pytest.param(
            {"fiscal_year_start_month": 13},
            "rules.fiscal_year_start_month: expected an integer between 1 and 12, got 13",
            id="config-fiscal-month-range",
        ),
        pytest.param(
            {"cadence": {"escalation_update_days": {"high": 0}}},
            "rules.cadence.escalation_update_days.high: expected an integer >= 1 or null, got 0",
            id="config-escalation-days-at-least-1",
        ),
        pytest.param(
            {"reminders": {"renewal-review": {"months": [-5, "three"]}}},
            "rules.reminders.renewal-review.months[1]: expected an integer, got 'three'",
            id="config-list-item-type",
        ),
        pytest.param(
            {"reminders": {"renewal-review": {"months": -5}}},
            "rules.reminders.renewal-review.months: expected a list, got -5",
            id="config-list-expected",
        ),
        pytest.param(
            {"reminders": {"ebr": {"anchor": "birthday"}}},
            "rules.reminders.ebr.anchor: expected one of: customer_since, renewal_date, "
            "onboarding_end, fiscal_quarter, got 'birthday'",
            id="config-reminder-anchor-choices",
        ),
        pytest.param(
            {"reminders": {"ebr": {"mentions": ["ae", "boss"]}}},
            "rules.reminders.ebr.mentions[1]: expected one of: csm, sa, ae, pse, got 'boss'",
            id="config-reminder-mention-roles",
        ),
        pytest.param(
            {"reminders": {"success-plan-review": {"months": [6]}}},
            "rules.reminders.success-plan-review.title: expected a text (a new kind needs",
            id="config-new-reminder-needs-a-title",
        ),
        pytest.param(
            {"reminders": {"Success Plan": {"title": "x"}}},
            "rules.reminders.Success Plan: expected a name of lowercase letters",
            id="config-reminder-name",
        ),
        pytest.param(
            {"reminders": {"qbr": {"title": "QBR", "per": "csm"}}},
            "rules.reminders.qbr.anchor: a reminder per CSM counts from fiscal_quarter",
            id="config-reminder-per-csm-anchor",
        ),
        pytest.param(
            {"reminders": {"renewal-review": {"months": [-3, 3]}}},
            "rules.reminders.renewal-review.months: expected stages at different distances",
            id="config-reminder-stages-distinct",
        ),
        pytest.param(
            {"cadence": {"ebr": {"every_months": 6}}},
            "rules.cadence.ebr: moved to rules.reminders.ebr",
            id="config-moved-key-says-where",
        ),
        pytest.param(
            {"health": {"thresholds": {"license_utilization": {"bands": [{"from_month": 2}]}}}},
            "rules.health.thresholds.license_utilization.bands[0]: missing key 'green_min_pct'",
            id="config-band-item-complete",
        ),
        pytest.param(
            {"health": {"thresholds": {"scm": {"green_min": 1.5}}}},
            "rules.health.thresholds.scm.green_min: expected a number between 0 and 1, got 1.5",
            id="config-ratio-range",
        ),
        pytest.param(
            {"health": {"thresholds": {"scm": {"green_min": 0.1}}}},
            "rules.health.thresholds.scm: the yellow bound must not be above the green bound",
            id="config-threshold-order",
        ),
        pytest.param(
            {"health": {"score": {"yellow_min": 80}}},
            "rules.health.score: the yellow bound",
            id="config-score-threshold-order",
        ),
        pytest.param(
            {"book_balance": {"strategic_p1_min_pct": 50}},
            "rules.book_balance: strategic_p1_min_pct exceeds",
            id="config-book-balance-order",
        ),
    ],
)
def test_errors_name_the_full_key(mapping: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        rules_from_mapping(mapping)
    assert str(info.value).startswith(message)
    assert info.value.exit_code == 2


def _nest(dotted: str, value: object) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    return {head: _nest(rest, value) if rest else value}


def test_describe_rules_lists_every_rule_with_meaning() -> None:
    rows = describe_rules()
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names))
    for expected in (
        "onboarding_window_days.commercial",
        "health.weights.product.scm",
        "priority.commercial.p1_arr",
        "priority.strategic.p1_arr",
        "priority.commercial.min_stages",
        "book_balance.strategic_p1_min_pct",
        "health.thresholds.license_utilization.bands",
        "health.thresholds.meeting_cadence.p1.green_max_days",
        "health.staleness_days.sentiment_no_data",
        "cadence.escalation_update_days.low",
        "fiscal_year_start_month",
        "pacing.issues_per_minute",
        "pacing.notes_per_minute",
    ):
        assert expected in names
    assert all(doc for _, _, doc in rows)


def test_every_described_rule_overlays_to_its_default() -> None:
    for name, default, _ in describe_rules():
        assert rules_from_mapping(_nest(name, default)) == DEFAULT_RULES, name


def test_persona_and_support_emergency_rules_are_config() -> None:
    """The persona and support-emergency colors are rules, not code constants."""
    from tests.domain.factories import assessed, days_ago

    def measure_color(rules: Rules, name: str, **keys: Any) -> str | None:
        health = assessed(rules, **keys).health
        assert health is not None
        return next(m.color for m in health.measures if m.name == name)

    one = {"engagement": {"last_call": days_ago(1), "personas_last_90_days": ["security-lead"]}}
    assert measure_color(DEFAULT_RULES, "persona_engagement", **one) == "yellow"
    lenient = rules_from_mapping(
        {"health": {"thresholds": {"persona_engagement": {"green_min": 1, "yellow_min": 0}}}}
    )
    assert measure_color(lenient, "persona_engagement", **one) == "green"

    support = {"support": {"as_of": days_ago(1), "tickets_last_30_days": 2, "emergency_open": True}}
    assert measure_color(DEFAULT_RULES, "support", **support) == "red"
    softer = rules_from_mapping(
        {"health": {"thresholds": {"support": {"emergency_open": "yellow"}}}}
    )
    assert measure_color(softer, "support", **support) == "yellow"
    with pytest.raises(ConfigError, match="emergency_open: expected one of: green, yellow, red"):
        rules_from_mapping({"health": {"thresholds": {"support": {"emergency_open": "amber"}}}})
