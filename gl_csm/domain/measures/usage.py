"""The usage shares (SPEC 4 Product group): the share of users active in the month and
the shares using source code management, CI, DevSecOps and CD, each green or yellow at
or above its thresholds (rules.health.thresholds.NAME), from the registry's `usage:`,
left out when that data is stale (rules.health.staleness_days.usage)."""

from __future__ import annotations

from collections.abc import Callable

from gl_csm.domain.measures.base import (
    Inputs,
    MeasureDef,
    Reading,
    number_unit,
    ratio_color,
)
from gl_csm.domain.rules import HealthRules, RatioThreshold


def _share(key: str, field: str) -> Callable[[Inputs], Reading]:
    def compute(i: Inputs) -> Reading:
        usage = i.account.usage
        value = getattr(usage, field)
        if value is None:
            return Reading(None, None, "no usage data")
        if usage.as_of is not None and i.days_since(usage.as_of) >= i.rules.staleness_days.usage:
            return Reading(value, None, f"usage data of {usage.as_of.isoformat()} is stale")
        t: RatioThreshold = getattr(i.rules.thresholds, key)
        return Reading(value, ratio_color(value, t.green_min, t.yellow_min))

    return compute


def _weight(key: str) -> Callable[[HealthRules], float]:
    def weight(h: HealthRules) -> float:
        return float(getattr(h.weights.product, key))

    return weight


def _usage(key: str, field: str, name: str, rank: int, of: str) -> MeasureDef:
    return MeasureDef(
        key=key,
        name=name,
        group="product",
        rank=rank,
        compute=_share(key, field),
        weight=_weight(key),
        unit=number_unit(lambda n, of=of: f"{round(n * 100)}% {of}"),
        # "Product Usage (not using features & functionality they've paid for)"
        risk_type="product-usage",
    )


DEFINITIONS = (
    _usage(
        "user_engagement", "monthly_active", "User engagement", 20, "of users active in the month"
    ),
    _usage("scm", "scm", "Source code management use", 30, "of users"),
    _usage("ci", "ci", "CI use", 40, "of users"),
    _usage("devsecops", "devsecops", "DevSecOps use", 50, "of users"),
    _usage("cd", "cd", "CD use", 60, "of users"),
)
