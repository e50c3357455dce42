"""Engagement (SPEC 4, handbook 002): days since the last call against the cadence of the
account's base priority (rules.health.thresholds.meeting_cadence), and the key personas
met in the last 90 days (rules.health.thresholds.persona_engagement). Both are left out
while the registry records no engagement."""

from __future__ import annotations

import ast

from gl_csm.domain.account import Account
from gl_csm.domain.measures.base import (
    GREEN,
    RED,
    YELLOW,
    Inputs,
    Measure,
    MeasureDef,
    Reading,
    number_unit,
    plural,
    ratio_color,
)


def _cadence(i: Inputs) -> Reading:
    eng = i.account.engagement
    if not i.account.has_engagement:
        return Reading(None, None, "no engagement data")
    if eng.last_call is None:
        return Reading(None, RED, "no call recorded")
    days = max(i.days_since(eng.last_call), 0)
    t = i.rules.thresholds.meeting_cadence.for_priority(i.base_priority)
    color = GREEN if days <= t.green_max_days else YELLOW if days <= t.yellow_max_days else RED
    return Reading(
        days, color, f"{days} days since the last call (base priority {i.base_priority})"
    )


def _cadence_steady(m: Measure, account: Account) -> str:
    """The day of the last call, not the days since it: the card and the issues quoting
    it do not change every day."""
    last = account.engagement.last_call
    if last is not None and m.value is not None:
        return f"last call on {last.isoformat()}"
    return m.note or "no data"


def _personas(i: Inputs) -> Reading:
    if not i.account.has_engagement:
        return Reading(None, None, "no engagement data")
    personas = i.account.engagement.personas_last_90_days
    if personas is None:
        return Reading(None, None, "no persona data")
    found = sorted(set(personas))
    t = i.rules.thresholds.persona_engagement
    return Reading(found, ratio_color(len(found), t.green_min, t.yellow_min), _met(found))


def _met(found: list[str]) -> str:
    return f"{', '.join(found) if found else 'no key persona'} in the last 90 days"


def _personas_unit(value: object) -> str:
    """The personas met; a list read back as text ("['security-lead']") too."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    if isinstance(value, list | tuple):
        return _met([str(p) for p in value])
    return str(value)


DEFINITIONS = (
    MeasureDef(
        key="meeting_cadence",
        name="Meeting cadence",
        group="engagement",
        rank=10,
        compute=_cadence,
        weight=lambda h: h.weights.engagement.meeting_cadence,
        unit=number_unit(lambda n: plural(n, "day", "days") + " since the last call"),
        steady=_cadence_steady,
        counts_days=True,
        # "Lack of Engagement/Loss of Champion"
        risk_type="engagement-champion",
    ),
    MeasureDef(
        key="persona_engagement",
        name="Persona engagement",
        group="engagement",
        rank=20,
        compute=_personas,
        weight=lambda h: h.weights.engagement.persona_engagement,
        unit=_personas_unit,
        risk_type="engagement-champion",
    ),
)
