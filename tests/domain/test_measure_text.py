"""The scorecard in people's words (domain/measure_text.py): names, units, overrides."""

from __future__ import annotations

from gl_csm.domain.health import HealthResult, Measure
from gl_csm.domain.measure_text import (
    describe,
    health_text,
    override_text,
    score_text,
    value_text,
)


def _measure(name: str, value: object, color: str | None, note: str = "") -> Measure:
    return Measure(
        name=name,
        group="product",
        value=value,
        color=color,
        weight=10,
        applied_weight=10,
        note=note,
    )


def _health(color: str, score: float, scorecard: str, overrides: tuple[str, ...]) -> HealthResult:
    return HealthResult(
        color=color,
        score=score,
        scorecard_color=scorecard,
        groups=(),
        measures=(),
        overrides=overrides,
        sentiment=None,
        sentiment_from_label=False,
        sentiment_stale=False,
    )


def test_measures_read_as_names_with_units() -> None:
    assert describe(_measure("ci", 0.09, "red")) == "CI use is red: 9% of users"
    assert describe(_measure("user_engagement", 0.22, "red")) == (
        "User engagement is red: 22% of users active in the month"
    )
    persona = _measure("persona_engagement", [], "red", "no key persona in the last 90 days")
    assert describe(persona) == "Persona engagement is red: no key persona in the last 90 days"
    cadence = _measure("meeting_cadence", 91, "red", "91 days since the last call")
    assert value_text(cadence) == "91 days since the last call"
    assert value_text(_measure("sentiment", "red", "red")) == "red"
    assert value_text(_measure("sentiment", "red", "red", "from the sentiment label")) == (
        "red (from the sentiment label)"
    )


def test_the_headline_says_when_an_override_decided() -> None:
    overridden = _health("red", 98.0, "green", ("red CSM sentiment -> red",))
    assert health_text(overridden) == "red (score 98): overridden by red CSM sentiment"
    by_score = _health("red", 13.5, "red", ("red CSM sentiment -> red",))
    assert health_text(by_score) == "red (score 13.5)"
    both = _health(
        "red",
        80.0,
        "green",
        ("red CSM sentiment -> red", "potential contraction or churn (risk.contraction) -> red"),
    )
    assert health_text(both) == (
        "red (score 80): overridden by red CSM sentiment and potential contraction or churn"
    )
    assert override_text("champion left -> yellow") == "champion left"
    assert score_text(98.04) == "98" and score_text(None) == "-"
    assert health_text(None) == "-"
