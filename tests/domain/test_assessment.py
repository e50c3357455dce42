"""SPEC 3 + 4 together: the base-priority circle, triage, lifecycle, JSON of SPEC 7."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gl_csm.domain.health import LabelSignals

from .factories import TODAY, assessed, days_ago, measure

# Strategic below the P1 ARR limit: base priority 2; last call 50 days ago is green
# for P2 (<= 65) but would be yellow for P1 (<= 60 ... > 35).
CIRCLE: dict[str, Any] = {"arr": 100000, "engagement": {"last_call": days_ago(50), "contacts": 3}}


@pytest.mark.parametrize(
    ("keys", "signals", "priority", "base"),
    [
        pytest.param(
            {"risk": {"contraction": True}},
            LabelSignals(),
            1,
            2,
            id="spec4-base-priority-contraction-at-risk",
        ),
        pytest.param(
            {"sentiment": {"health": "green", "needs_triage": True, "updated": days_ago(1)}},
            LabelSignals(),
            1,
            2,
            id="spec4-base-priority-csm-asked-triage",
        ),
        pytest.param(
            {}, LabelSignals(triage_needed=True), 1, 2, id="spec4-base-priority-triage-label"
        ),
        pytest.param(
            {}, LabelSignals(sentiment="red"), 1, 2, id="spec4-base-priority-red-label-sentiment"
        ),
        pytest.param({}, LabelSignals(), 2, 2, id="spec4-base-priority-not-at-risk"),
    ],
)
def test_health_uses_base_priority(
    keys: dict[str, Any], signals: LabelSignals, priority: int, base: int
) -> None:
    a = assessed(signals=signals, **{**CIRCLE, **keys})
    assert a.priority.priority == priority
    assert a.base_priority.priority == base
    assert a.health is not None
    # The meeting cadence is judged with base priority 2, not the final P1.
    assert measure(a.health, "meeting_cadence").color == "green"
    assert a.at_risk is (priority == 1)


@pytest.mark.parametrize(
    ("keys", "signals", "expected"),
    [
        pytest.param(
            {"risk": {"contraction": True}}, LabelSignals(), True, id="spec4-needs-triage-red"
        ),
        pytest.param(
            {"sentiment": {"health": "green", "needs_triage": True, "updated": days_ago(1)}},
            LabelSignals(),
            True,
            id="spec4-needs-triage-csm-asked-while-green",
        ),
        pytest.param(
            {"sentiment": {"health": "green", "updated": days_ago(1)}},
            LabelSignals(triage_needed=True),
            True,
            id="spec4-needs-triage-label",
        ),
        pytest.param(
            {"sentiment": {"health": "yellow", "updated": days_ago(1)}},
            LabelSignals(),
            False,
            id="spec4-needs-triage-yellow-alone-no",
        ),
        pytest.param(
            {
                "customer_since": None,
                "risk": {"contraction": True},
                "sentiment": {"health": "red", "needs_triage": True},
            },
            LabelSignals(triage_needed=True),
            False,
            id="spec4-needs-triage-never-pre-sales",
        ),
    ],
)
def test_needs_triage(keys: dict[str, Any], signals: LabelSignals, expected: bool) -> None:
    assert assessed(signals=signals, **keys).needs_triage is expected


def test_needs_triage_makes_priority_1_in_every_segment() -> None:
    for segment in ("strategic", "growth", "scale", "commercial"):
        a = assessed(
            segment=segment,
            arr=1000,
            stages_adopted=["create", "verify"],
            success_plan={"objectives": 3},
            sentiment={"health": "red", "updated": days_ago(1)},
        )
        assert (a.health_color, a.needs_triage, a.priority.priority) == ("red", True, 1)
        assert any("at risk (needs triage)" in r for r in a.priority.reasons)


@pytest.mark.parametrize(
    ("keys", "lifecycle"),
    [
        pytest.param({"customer_since": None}, "pre-sales", id="spec4-lifecycle-pre-sales"),
        pytest.param(
            {"customer_since": days_ago(10), "onboarding_completed": None},
            "onboarding",
            id="spec4-lifecycle-onboarding",
        ),
        pytest.param({}, "adopting", id="spec4-lifecycle-adopting"),
        pytest.param({"lifecycle": "will-churn"}, "will-churn", id="spec4-lifecycle-will-churn"),
        pytest.param(
            {"lifecycle": "churned", "customer_since": days_ago(5), "onboarding_completed": None},
            "churned",
            id="spec4-lifecycle-hand-set-wins",
        ),
    ],
)
def test_lifecycle(keys: dict[str, Any], lifecycle: str) -> None:
    assert assessed(**keys).lifecycle == lifecycle


def test_pre_sales_assessment() -> None:
    a = assessed(customer_since=None, sentiment={"health": "red", "needs_triage": True})
    doc = a.to_json()
    assert doc["priority"] is None and doc["base_priority"] is None
    assert doc["health"] is None and doc["score"] is None
    assert doc["measures"] == [] and doc["groups"] == {} and doc["overrides"] == []
    assert doc["needs_triage"] is False and doc["lifecycle"] == "pre-sales"


def test_to_json_has_exactly_the_spec7_keys_and_serialises() -> None:
    a = assessed(
        seats={"licensed": 300, "active": 200},
        usage={"as_of": days_ago(3), "monthly_active": 0.4, "scm": 0.33},
        engagement={
            "last_call": days_ago(12),
            "contacts": 1,
            "personas_last_90_days": ["security-lead"],
        },
        sentiment={"health": "yellow", "updated": days_ago(3)},
    )
    doc = a.to_json()
    assert list(doc) == [
        "slug",
        "priority",
        "base_priority",
        "priority_reasons",
        "health",
        "score",
        "groups",
        "measures",
        "overrides",
        "needs_triage",
        "lifecycle",
    ]
    assert json.loads(json.dumps(doc)) == doc
    assert doc["slug"] == "test-co"
    assert isinstance(doc["score"], float) and round(doc["score"], 1) == doc["score"]
    assert set(doc["groups"]) == {"product", "risk", "outcomes", "voice", "engagement"}
    assert doc["groups"]["outcomes"] is None
    first = doc["measures"][0]
    assert set(first) == {"measure", "value", "color", "weight"}
    assert first == {
        "measure": "license_utilization",
        "value": 67,
        "color": "red",
        "weight": pytest.approx(first["weight"]),
    }
    persona = next(m for m in doc["measures"] if m["measure"] == "persona_engagement")
    assert persona["value"] == ["security-lead"]
    assert all(isinstance(r, str) for r in doc["priority_reasons"])


def test_assessment_keeps_the_account_and_reasons_for_the_card() -> None:
    a = assessed(arr=800000, sentiment={"health": "green", "updated": days_ago(100)})
    assert a.account.arr == 800000
    assert a.priority.reasons == ("strategic: ARR 800,000 >= 500,000",)
    assert a.health is not None and a.health.sentiment_stale
    assert a.slug == "test-co" and a.score == 100.0


def test_today_is_a_parameter() -> None:
    a = assessed(today=TODAY, customer_since=days_ago(10), onboarding_completed=None)
    assert a.lifecycle == "onboarding"
