"""SPEC 3 priority: one case per rule and per boundary (ids name the rule)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gl_csm.domain.priority import assess_priority, in_onboarding
from gl_csm.domain.rules import DEFAULT_RULES, rules_from_mapping

from .factories import TODAY, account, days_ago, days_ahead

# A commercial account that meets no priority-1 criterion (SPEC 3, commercial).
COMMERCIAL_P2: dict[str, Any] = {
    "segment": "commercial",
    "arr": 50000,
    "stages_adopted": ["create", "verify"],
    "success_plan": {"objectives": 3},
    "nps": 8,
}


def prio(at_risk: bool = False, today: date = TODAY, **keys: Any) -> int | None:
    return assess_priority(account(**keys), DEFAULT_RULES, today, at_risk=at_risk).priority


# ---------------------------------------------------------------- order of the rules


@pytest.mark.parametrize(
    ("keys", "at_risk", "expected"),
    [
        pytest.param({"customer_since": None}, False, None, id="spec3-pre-sales-no-priority"),
        pytest.param(
            {"customer_since": None, "digital": True},
            True,
            None,
            id="spec3-pre-sales-before-digital",
        ),
        pytest.param({"digital": True}, False, 4, id="spec3.1-digital-4"),
        pytest.param(
            {"digital": True, "exception": {"priority": 1, "reason": "x"}, "arr": 10**6},
            True,
            4,
            id="spec3.1-digital-wins-over-everything",
        ),
        pytest.param(
            {"parent": "acme", "managed": False}, False, 3, id="spec3.2-unmanaged-child-3"
        ),
        pytest.param(
            {"parent": "acme", "managed": False, "arr": 10**6},
            True,
            3,
            id="spec3.2-unmanaged-child-wins-over-segment",
        ),
        pytest.param(
            {"parent": "acme", "managed": True, "arr": 10**6},
            False,
            1,
            id="spec3.2-managed-child-uses-segment",
        ),
        pytest.param({"managed": False}, False, 2, id="spec3.2-unmanaged-without-parent"),
        pytest.param(
            {"exception": {"priority": 2, "reason": "no growth path"}, "arr": 10**6},
            True,
            2,
            id="spec3.3-exception-wins-over-segment",
        ),
        pytest.param(
            {"exception": {"priority": 1, "reason": "key logo"}, "arr": 1000},
            False,
            1,
            id="spec3.3-exception-raises",
        ),
        pytest.param(
            {"parent": "acme", "managed": False, "exception": {"priority": 1, "reason": "x"}},
            False,
            3,
            id="spec3.2-child-before-exception",
        ),
    ],
)
def test_rule_order(keys: dict[str, Any], at_risk: bool, expected: int | None) -> None:
    assert prio(at_risk=at_risk, **keys) == expected


def test_exception_reason_is_shown() -> None:
    result = assess_priority(
        account(exception={"priority": 1, "reason": "key logo"}),
        DEFAULT_RULES,
        TODAY,
        at_risk=False,
    )
    assert result.reasons == ("priority exception: key logo",)


def test_pre_sales_reason() -> None:
    result = assess_priority(account(customer_since=None), DEFAULT_RULES, TODAY, at_risk=True)
    assert result.priority is None and "pre-sales" in result.reasons[0]


# ---------------------------------------------------------------- onboarding windows


@pytest.mark.parametrize(
    ("segment", "days", "expected"),
    [
        pytest.param("commercial", 44, True, id="spec3-onboarding-commercial-day-44"),
        pytest.param("commercial", 45, False, id="spec3-onboarding-commercial-day-45"),
        pytest.param("strategic", 59, True, id="spec3-onboarding-strategic-day-59"),
        pytest.param("strategic", 60, False, id="spec3-onboarding-strategic-day-60"),
        pytest.param("growth", 59, True, id="spec3-onboarding-growth-day-59"),
        pytest.param("growth", 60, False, id="spec3-onboarding-growth-day-60"),
        pytest.param("scale", 59, True, id="spec3-onboarding-scale-day-59"),
        pytest.param("scale", 60, False, id="spec3-onboarding-scale-day-60"),
        pytest.param("commercial", 0, True, id="spec3-onboarding-first-day"),
    ],
)
def test_onboarding_window(segment: str, days: int, expected: bool) -> None:
    keys = {**COMMERCIAL_P2, "segment": segment}
    acct = account(customer_since=days_ago(days), onboarding_completed=None, **keys)
    assert in_onboarding(acct, DEFAULT_RULES, TODAY) is expected


@pytest.mark.parametrize(
    ("segment", "days", "expected"),
    [
        pytest.param("commercial", 44, 1, id="spec3-onboarding-commercial-44-is-p1"),
        pytest.param("commercial", 45, 2, id="spec3-onboarding-commercial-45-is-p2"),
        pytest.param("strategic", 59, 1, id="spec3-onboarding-strategic-59-is-p1"),
        pytest.param("strategic", 60, 2, id="spec3-onboarding-strategic-60-is-p2"),
        pytest.param("growth", 59, 1, id="spec3-onboarding-growth-59-is-p1"),
        pytest.param("scale", 60, 2, id="spec3-onboarding-scale-60-is-p2"),
    ],
)
def test_onboarding_priority(segment: str, days: int, expected: int) -> None:
    keys = {**COMMERCIAL_P2, "segment": segment}
    assert prio(customer_since=days_ago(days), onboarding_completed=None, **keys) == expected


def test_onboarding_completed_ends_onboarding_early() -> None:
    acct = account(customer_since=days_ago(10), onboarding_completed=days_ago(1), **COMMERCIAL_P2)
    assert not in_onboarding(acct, DEFAULT_RULES, TODAY)
    assert prio(customer_since=days_ago(10), onboarding_completed=days_ago(1), **COMMERCIAL_P2) == 2


def test_onboarding_window_is_config() -> None:
    rules = rules_from_mapping({"onboarding_window_days": {"commercial": 30}})
    acct = account(customer_since=days_ago(31), onboarding_completed=None, **COMMERCIAL_P2)
    assert not in_onboarding(acct, rules, TODAY)


# ---------------------------------------------------------------- strategic


@pytest.mark.parametrize(
    ("keys", "at_risk", "expected"),
    [
        pytest.param({}, False, 2, id="spec3-strategic-nothing-is-p2"),
        pytest.param({"arr": 500000}, False, 1, id="spec3-strategic-arr-500000-is-p1"),
        pytest.param({"arr": 499999}, False, 2, id="spec3-strategic-arr-499999-is-p2"),
        pytest.param({}, True, 1, id="spec3-strategic-at-risk"),
        pytest.param(
            {"customer_since": days_ago(20), "onboarding_completed": None},
            False,
            1,
            id="spec3-strategic-in-onboarding",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": date(2027, 2, 23)}]},
            False,
            1,
            id="spec3-strategic-uptier-on-3-month-edge",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": date(2027, 2, 24)}]},
            False,
            2,
            id="spec3-strategic-uptier-one-day-past-3-months",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": days_ago(1)}]},
            False,
            2,
            id="spec3-strategic-uptier-already-passed",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": TODAY}]},
            False,
            1,
            id="spec3-strategic-uptier-closing-today",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": days_ahead(10)}]},
            False,
            2,
            id="spec3-strategic-growth-opportunity-does-not-count",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier"}]},
            False,
            2,
            id="spec3-strategic-uptier-without-close-date-never-matches",
        ),
        pytest.param(
            {"success_plan": {"active_use_case_planning": True}},
            False,
            2,
            id="spec3-strategic-use-case-planning-is-growth-only",
        ),
    ],
)
def test_strategic(keys: dict[str, Any], at_risk: bool, expected: int) -> None:
    assert prio(at_risk=at_risk, **{"arr": 100000, **keys}) == expected


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        pytest.param(date(2027, 2, 28), 1, id="spec3-within-month-end-2026-11-30-plus-3-edge"),
        pytest.param(date(2027, 3, 1), 2, id="spec3-within-month-end-2026-11-30-plus-3-past"),
    ],
)
def test_month_end_edge(close: date, expected: int) -> None:
    opp = [{"type": "uptier", "close_date": close}]
    assert prio(today=date(2026, 11, 30), arr=100000, opportunities=opp) == expected


def test_strategic_reason_text() -> None:
    acct = account(arr=100000, opportunities=[{"type": "uptier", "close_date": date(2027, 1, 15)}])
    result = assess_priority(acct, DEFAULT_RULES, TODAY, at_risk=False)
    assert result.reasons == ("strategic: uptier opportunity closes 2027-01-15 (within 3 months)",)


def test_strategic_p1_arr_is_config() -> None:
    rules = rules_from_mapping({"priority": {"strategic": {"p1_arr": 100000}}})
    assert assess_priority(account(arr=100000), rules, TODAY, at_risk=False).priority == 1


# ---------------------------------------------------------------- growth


@pytest.mark.parametrize(
    ("keys", "at_risk", "expected"),
    [
        pytest.param({}, False, 2, id="spec3-growth-nothing-is-p2"),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": date(2027, 5, 23)}]},
            False,
            1,
            id="spec3-growth-uptier-on-6-month-edge",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": date(2027, 5, 23)}]},
            False,
            1,
            id="spec3-growth-growth-opp-on-6-month-edge",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": date(2027, 5, 24)}]},
            False,
            2,
            id="spec3-growth-opp-one-day-past-6-months",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": days_ago(3)}]},
            False,
            2,
            id="spec3-growth-opp-passed",
        ),
        pytest.param(
            {"success_plan": {"active_use_case_planning": True}},
            False,
            1,
            id="spec3-growth-active-use-case-planning",
        ),
        pytest.param({}, True, 1, id="spec3-growth-at-risk"),
        pytest.param(
            {"customer_since": days_ago(59), "onboarding_completed": None},
            False,
            1,
            id="spec3-growth-in-onboarding",
        ),
        pytest.param({"arr": 10**7}, False, 2, id="spec3-growth-arr-does-not-count"),
    ],
)
def test_growth(keys: dict[str, Any], at_risk: bool, expected: int) -> None:
    assert prio(at_risk=at_risk, segment="growth", **keys) == expected


# ---------------------------------------------------------------- scale


@pytest.mark.parametrize(
    ("keys", "at_risk", "expected"),
    [
        pytest.param({}, False, 2, id="spec3-scale-nothing-is-p2"),
        pytest.param({}, True, 1, id="spec3-scale-at-risk"),
        pytest.param(
            {"customer_since": days_ago(5), "onboarding_completed": None},
            False,
            1,
            id="spec3-scale-in-onboarding",
        ),
        pytest.param(
            {"arr": 10**7, "opportunities": [{"type": "uptier", "close_date": days_ahead(5)}]},
            False,
            2,
            id="spec3-scale-nothing-else-counts",
        ),
    ],
)
def test_scale(keys: dict[str, Any], at_risk: bool, expected: int) -> None:
    assert prio(at_risk=at_risk, segment="scale", **keys) == expected


# ---------------------------------------------------------------- commercial


@pytest.mark.parametrize(
    ("keys", "at_risk", "expected", "reason"),
    [
        pytest.param({}, False, 2, "no priority-1 criterion", id="spec3-commercial-nothing-is-p2"),
        pytest.param({"arr": 200000}, False, 1, "ARR 200,000", id="spec3-commercial-arr-200000"),
        pytest.param({"arr": 199999}, False, 2, None, id="spec3-commercial-arr-199999"),
        pytest.param(
            {"customer_since": days_ago(44), "onboarding_completed": None},
            False,
            1,
            "in onboarding",
            id="spec3-commercial-in-onboarding",
        ),
        pytest.param(
            {"success_plan": {"objectives": 3, "critical_initiative": True}},
            False,
            1,
            "critical initiative",
            id="spec3-commercial-critical-initiative",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": date(2027, 2, 23)}]},
            False,
            1,
            "within 3 months",
            id="spec3-commercial-growth-opp-on-3-month-edge",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": date(2027, 2, 24)}]},
            False,
            2,
            None,
            id="spec3-commercial-growth-opp-one-day-past-3-months",
        ),
        pytest.param(
            {"opportunities": [{"type": "growth", "close_date": days_ago(1)}]},
            False,
            2,
            None,
            id="spec3-commercial-growth-opp-passed",
        ),
        pytest.param(
            {"growth_intent": True}, False, 1, "intent to grow", id="spec3-commercial-growth-intent"
        ),
        pytest.param(
            {"stages_adopted": ["create"]},
            False,
            1,
            "1 stage adopted",
            id="spec3-commercial-one-stage",
        ),
        pytest.param(
            {"stages_adopted": None},
            False,
            1,
            "0 stages adopted",
            id="spec3-commercial-missing-stages-count-as-none",
        ),
        pytest.param(
            {"stages_adopted": ["create", "create"]},
            False,
            1,
            "1 stage adopted",
            id="spec3-commercial-duplicate-stage-counts-once",
        ),
        pytest.param({}, True, 1, "at risk", id="spec3-commercial-at-risk"),
        pytest.param(
            {"success_plan": {"objectives": 0}},
            False,
            1,
            "no success plan objectives",
            id="spec3-commercial-zero-objectives",
        ),
        pytest.param(
            {"success_plan": None},
            False,
            2,
            None,
            id="spec3-commercial-missing-objectives-no-match",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": date(2027, 8, 23)}]},
            False,
            1,
            "within 9 months",
            id="spec3-commercial-uptier-on-9-month-edge",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close_date": date(2027, 8, 24)}]},
            False,
            2,
            None,
            id="spec3-commercial-uptier-one-day-past-9-months",
        ),
        pytest.param({"nps": 6}, False, 1, "NPS 6", id="spec3-commercial-nps-6"),
        pytest.param({"nps": 7}, False, 2, None, id="spec3-commercial-nps-7"),
        pytest.param({"nps": None}, False, 2, None, id="spec3-commercial-nps-missing-no-match"),
        pytest.param({"key_logo": True}, False, 1, "key logo", id="spec3-commercial-key-logo"),
        pytest.param(
            {"channel_engaged": True}, False, 1, "channel", id="spec3-commercial-channel-engaged"
        ),
    ],
)
def test_commercial(keys: dict[str, Any], at_risk: bool, expected: int, reason: str | None) -> None:
    acct = account(**{**COMMERCIAL_P2, **keys})
    result = assess_priority(acct, DEFAULT_RULES, TODAY, at_risk=at_risk)
    assert result.priority == expected
    if reason is not None:
        assert any(reason in r for r in result.reasons), result.reasons


def test_commercial_lists_every_matching_reason() -> None:
    acct = account(**{**COMMERCIAL_P2, "arr": 250000, "key_logo": True, "nps": 2})
    result = assess_priority(acct, DEFAULT_RULES, TODAY, at_risk=False)
    assert result.priority == 1
    assert len(result.reasons) == 3
    assert all(r.startswith("commercial: ") for r in result.reasons)


def test_commercial_uptier_within_3_months_gives_one_reason() -> None:
    acct = account(
        **{**COMMERCIAL_P2, "opportunities": [{"type": "uptier", "close_date": days_ahead(30)}]}
    )
    result = assess_priority(acct, DEFAULT_RULES, TODAY, at_risk=False)
    assert len(result.reasons) == 1 and "within 3 months" in result.reasons[0]


def test_commercial_min_stages_is_config() -> None:
    rules = rules_from_mapping({"priority": {"commercial": {"min_stages": 3}}})
    acct = account(**COMMERCIAL_P2)
    assert assess_priority(acct, rules, TODAY, at_risk=False).priority == 1


def test_at_risk_reason_text() -> None:
    result = assess_priority(
        account(segment="scale"), DEFAULT_RULES, TODAY, at_risk=True, at_risk_because="needs triage"
    )
    assert result.reasons == ("scale: at risk (needs triage)",)
