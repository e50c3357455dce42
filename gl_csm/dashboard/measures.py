"""Scorecard measures as people read them on the dashboard: the measure's name in words
and its value with its unit (SPEC 4's table), from the rows of `gl-csm triage --format
json`, where a value is the measure's value as text ("0.45", "91", "['security-lead']").
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

#: SPEC 4's measures, in its words.
NAMES = {
    "license_utilization": "License utilization",
    "user_engagement": "User engagement",
    "scm": "SCM usage",
    "ci": "CI usage",
    "devsecops": "DevSecOps usage",
    "cd": "CD usage",
    "sentiment": "CSM sentiment",
    "success_plan": "Success plan",
    "support": "Support",
    "nps": "NPS",
    "meeting_cadence": "Meeting cadence",
    "persona_engagement": "Persona engagement",
}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _plural(n: float, one: str, many: str) -> str:
    return f"{n:g} {one if n == 1 else many}"


def _share(of: str) -> Callable[[float], str]:
    """A usage ratio (0.45) as a percentage of users (SPEC 4: `usage.*` are shares)."""
    return lambda v: f"{v * 100:.0f}% of {of}"


_UNITS: dict[str, Callable[[float], str]] = {
    # SPEC 4: utilization is seats.active / seats.licensed, kept as a whole percent.
    "license_utilization": lambda v: f"{v:g}% of licensed seats active",
    "user_engagement": _share("users active in the month"),
    "scm": _share("users"),
    "ci": _share("users"),
    "devsecops": _share("users"),
    "cd": _share("users"),
    "success_plan": lambda v: _plural(v, "objective", "objectives"),
    "support": lambda v: _plural(v, "ticket", "tickets") + " in the last 30 days",
    "nps": lambda v: f"{v:g} out of 10",
    "meeting_cadence": lambda v: _plural(v, "day", "days") + " since the last call",
}


def _personas(text: str) -> str:
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if isinstance(found, list | tuple):
        names = ", ".join(str(p) for p in found)
        return f"{names} in the last 90 days" if names else "no persona in the last 90 days"
    return text


def measure_name(name: str) -> str:
    return NAMES.get(name, name.replace("_", " ").capitalize())


def measure_value(name: str, value: object) -> str:
    """The value with its unit; "no data" for none; an unknown measure as it came."""
    text = "" if value is None else str(value).strip()
    if text in ("", "-", "None"):
        return "no data"
    if name == "persona_engagement":
        return _personas(text)
    unit = _UNITS.get(name)
    number = _number(text)
    if unit is None or number is None:
        return text
    return unit(number)


def readable(measures: object) -> list[dict[str, Any]]:
    """The measure rows of a triage result, for the account page."""
    out = []
    for m in measures if isinstance(measures, list) else []:
        if not isinstance(m, Mapping):
            continue
        name = str(m.get("name") or "")
        out.append(
            {
                "name": measure_name(name),
                "color": m.get("color"),
                "value": measure_value(name, m.get("value")),
            }
        )
    return out
