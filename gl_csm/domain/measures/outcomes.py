"""Success plan (SPEC 4 Outcomes group): the objectives recorded in the customer's
success plan, green or yellow at or above rules.health.thresholds.success_plan."""

from __future__ import annotations

from gl_csm.domain.measures.base import (
    Inputs,
    MeasureDef,
    Reading,
    number_unit,
    plural,
    ratio_color,
)


def _compute(i: Inputs) -> Reading:
    objectives = i.account.success_plan.objectives
    if objectives is None:
        return Reading(None, None, "no success plan objectives recorded")
    t = i.rules.thresholds.success_plan
    color = ratio_color(objectives, t.green_min, t.yellow_min)
    return Reading(objectives, color, plural(objectives, "objective", "objectives"))


DEFINITIONS = (
    MeasureDef(
        key="success_plan",
        name="Success plan",
        group="outcomes",
        rank=10,
        compute=_compute,
        weight=lambda h: h.weights.outcomes.success_plan,
        unit=number_unit(lambda n: plural(n, "objective", "objectives")),
        # "ROI (the customer doesn't feel they're getting value)": "Lack of a plan"
        risk_type="roi",
    ),
)
