"""Scorecard measures as people read them on the dashboard: the measure's name in words
and its value with its unit, from each measure's definition (domain/measures/), for the
rows of `gl-csm triage --format json`, where a value is the measure's value as text
("0.45", "91", "['security-lead']").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gl_csm.domain.measures import registry


def measure_name(name: str) -> str:
    return registry.measure_name(name)


def measure_value(name: str, value: object) -> str:
    """The value with its unit; "no data" for none; an unknown measure as it came."""
    return registry.value_words(name, value)


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
