"""License utilization (SPEC 4, handbook 002): seats active of seats licensed, colored by
the band of months the account has been a customer (rules.health.thresholds.
license_utilization.bands)."""

from __future__ import annotations

from datetime import date

from gl_csm.domain.cadence import whole_months_between
from gl_csm.domain.measures.base import (
    GREEN,
    RED,
    YELLOW,
    Inputs,
    MeasureDef,
    Reading,
    number_unit,
)


def utilization_pct(active: int, licensed: int) -> int:
    """Utilization as a whole percent, half up (SPEC 4 compares the rounded value)."""
    # Integer arithmetic: 101/200 is exactly 50.5 % and must round to 51.
    return (active * 200 + licensed) // (2 * licensed)


def months_a_customer(since: date, today: date) -> int:
    """SPEC 4: whole calendar months since `customer_since` (0 before it)."""
    return max(whole_months_between(since, today), 0)


def _compute(i: Inputs) -> Reading:
    seats = i.account.seats
    if seats.licensed is None or seats.active is None or seats.licensed == 0:
        return Reading(None, None, "no seat data")
    pct = utilization_pct(seats.active, seats.licensed)
    since = i.account.customer_since
    assert since is not None
    months = months_a_customer(since, i.today)
    band = None
    for b in i.rules.thresholds.license_utilization.bands:
        if months >= b.from_month:
            band = b
    if band is None:
        # handbook 002 / SPEC 4: months 0-2 as a customer give no utilization data.
        return Reading(pct, None, f"{months} months a customer: too early for utilization")
    if pct >= band.green_min_pct:
        color = GREEN
    elif pct >= band.yellow_min_pct:
        color = YELLOW
    else:
        color = RED
    return Reading(pct, color, f"{pct}% of seats active after {months} months")


DEFINITIONS = (
    MeasureDef(
        key="license_utilization",
        name="License utilization",
        group="product",
        rank=10,
        compute=_compute,
        weight=lambda h: h.weights.product.license_utilization,
        unit=number_unit(lambda n: f"{n:g}% of licensed seats active"),
        # "Product Usage (not using features & functionality they've paid for)"
        risk_type="product-usage",
    ),
)
