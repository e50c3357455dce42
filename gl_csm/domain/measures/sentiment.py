"""CSM sentiment (SPEC 4 Risk group): the `sentiment::COLOR` label on the tracking issue
wins (newer than the registry, treated as fresh); else the registry's sentiment, flagged
stale and then left out as it ages (rules.health.staleness_days). The only measure with
data in the first days as a customer; a red one also overrides the account's color
(health.py)."""

from __future__ import annotations

from dataclasses import dataclass

from gl_csm.domain.account import Account
from gl_csm.domain.measures.base import Inputs, Measure, MeasureDef, Reading

FROM_LABEL = "from the sentiment label"


@dataclass(frozen=True, slots=True)
class SentimentFacts:
    """The sentiment the scorecard used, where it came from, and whether it is stale."""

    reading: Reading
    sentiment: str | None  # None when no data
    from_label: bool
    stale: bool  # flagged stale, still counted


def facts(i: Inputs) -> SentimentFacts:
    account, sd = i.account, i.rules.staleness_days
    if i.signals.sentiment is not None:
        s = i.signals.sentiment
        return SentimentFacts(Reading(s, s, FROM_LABEL), s, True, False)
    health = account.sentiment.health
    if health is None:
        return SentimentFacts(Reading(None, None, "no CSM sentiment"), None, False, False)
    updated = account.sentiment.updated
    age = None if updated is None else i.days_since(updated)
    if age is not None and age >= sd.sentiment_no_data:
        note = f"sentiment not updated for {age} days"
        return SentimentFacts(Reading(health, None, note), None, False, False)
    # A sentiment without an update date cannot be shown fresh: flag it.
    stale = age is None or age >= sd.sentiment_stale
    if age is None:
        note = "sentiment has no update date"
    else:
        note = f"stale: not updated for {age} days" if stale else ""
    return SentimentFacts(Reading(health, health, note), health, False, stale)


def _compute(i: Inputs) -> Reading:
    return facts(i).reading


def text(m: Measure) -> str:
    """The color with why it reads so: "red (from the sentiment label)"."""
    shown = str(m.value) if m.value is not None else "none"
    return f"{shown} ({m.note})" if m.note and m.value is not None else (m.note or shown)


def _steady(m: Measure, account: Account) -> str:
    """Where the sentiment comes from, with dates rather than ages (a day count would
    rewrite the card every day)."""
    updated = account.sentiment.updated
    if m.note == FROM_LABEL:
        return "set with the sentiment label on the tracking issue"
    if m.value is not None and updated is not None:
        stale = ": stale" if m.note else ""
        return f"{'not updated since' if m.note else 'updated'} {updated.isoformat()}{stale}"
    return m.note or "none"


DEFINITIONS = (
    MeasureDef(
        key="sentiment",
        name="CSM sentiment",
        group="risk",
        rank=10,
        compute=_compute,
        weight=lambda h: h.weights.risk.sentiment,
        unit=str,
        reads=text,
        steady=_steady,
        # No risk type: the CSM says why in the risk types (SPEC 6.1).
        risk_type=None,
        from_first_day=True,
    ),
)
