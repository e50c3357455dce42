"""How the scorecard reads to people (SPEC 4): a measure's name and its value with its
unit, the overrides in words, and the health headline that says when an override, not
the score, decided the color. Pure: text from an assessment, no I/O.

The keys (``license_utilization``) stay what `gl-csm assess --format json` prints (SPEC
7); the names and units come from each measure's definition (domain/measures/)."""

from __future__ import annotations

import re

from gl_csm.domain.health import HealthResult, Measure
from gl_csm.domain.measures import registry


def measure_name(name: str) -> str:
    """The name people read for a measure key (the measure's definition)."""
    return registry.measure_name(name)


def score_text(score: float | None) -> str:
    """A score as people write it: 98, 13.5 (not 98.0)."""
    return "-" if score is None else f"{round(score, 1):g}"


def value_text(m: Measure) -> str:
    """The value with its unit ("22% of users active in the month", "91 days since the
    last call"), or why there is none; never a bare number or a Python list."""
    return registry.reading_text(m)


def describe(m: Measure) -> str:
    """One measure in a sentence: "License utilization is red: 36% of seats active"."""
    return f"{measure_name(m.name)} is {m.color or 'left out'}: {value_text(m)}"


_KEY_IN_PARENS = re.compile(r" \([a-z_]+\.[a-z_]+\)")


def override_text(override: str) -> str:
    """An override in words, without its arrow or registry key: "potential contraction or
    churn" for "potential contraction or churn (risk.contraction) -> red"."""
    return _KEY_IN_PARENS.sub("", override.rsplit(" -> ", 1)[0])


def deciding_overrides(h: HealthResult) -> list[str]:
    """The overrides that set the color the score alone would not give, in words."""
    if h.score is None or h.scorecard_color == h.color:
        return []
    return [override_text(o) for o in h.overrides if o.endswith(f"-> {h.color}")]


def health_text(h: HealthResult | None) -> str:
    """The health headline: "red (score 13.5)", or "red (score 98): overridden by red
    CSM sentiment" when an override, not the score, made the color."""
    if h is None:
        return "-"
    if h.score is None:
        return h.color
    out = f"{h.color} (score {score_text(h.score)})"
    decided = deciding_overrides(h)
    if decided:
        out += f": overridden by {' and '.join(decided)}"
    return out
