"""The voice of the customer (SPEC 4, handbook 002): support tickets and the latest NPS
survey answer, each left out when its data is stale (rules.health.staleness_days)."""

from __future__ import annotations

from gl_csm.domain.measures.base import (
    GREEN,
    RED,
    YELLOW,
    Inputs,
    MeasureDef,
    Reading,
    number_unit,
    plural,
    ratio_color,
)


def _support(i: Inputs) -> Reading:
    s = i.account.support
    if s.as_of is not None and i.days_since(s.as_of) >= i.rules.staleness_days.support:
        return Reading(
            s.tickets_last_30_days, None, f"support data of {s.as_of.isoformat()} is stale"
        )
    t = i.rules.thresholds.support
    tickets = s.tickets_last_30_days
    # handbook 002: 16+ tickets a month red, an open emergency red; 6-15 yellow, none
    # opened after being advised to yellow; SPEC 4 adds a recent emergency to yellow.
    if s.emergency_open:
        return Reading(tickets, t.emergency_open, "an emergency ticket is open")
    if tickets is not None and tickets > t.yellow_max_tickets:
        return Reading(tickets, RED, _tickets(tickets))
    if s.emergency_closed_last_7_days and t.emergency_closed_last_7_days != GREEN:
        return Reading(
            tickets, t.emergency_closed_last_7_days, "an emergency ticket closed in the last 7 days"
        )
    if tickets is None:
        return Reading(None, None, "no support data")
    if tickets > t.green_max_tickets:
        return Reading(tickets, YELLOW, _tickets(tickets))
    if tickets == 0 and s.advised_no_ticket:
        return Reading(tickets, YELLOW, "no ticket opened after being advised to contact Support")
    return Reading(tickets, GREEN, _tickets(tickets))


def _tickets(n: int) -> str:
    return plural(n, "ticket", "tickets") + " in the last 30 days"


def _nps(i: Inputs) -> Reading:
    score, as_of = i.account.nps, i.account.nps_as_of
    if score is None:
        return Reading(None, None, "no NPS survey answer")
    if as_of is not None and i.days_since(as_of) >= i.rules.staleness_days.nps:
        return Reading(score, None, f"NPS survey of {as_of.isoformat()} is too old")
    t = i.rules.thresholds.nps
    when = f" (survey of {as_of.isoformat()})" if as_of is not None else ""
    return Reading(score, ratio_color(score, t.green_min, t.yellow_min), f"{score} out of 10{when}")


DEFINITIONS = (
    MeasureDef(
        key="support",
        name="Support",
        group="voice",
        rank=10,
        compute=_support,
        weight=lambda h: h.weights.voice.support,
        unit=number_unit(lambda n: plural(n, "ticket", "tickets") + " in the last 30 days"),
        # "Product (the product does not do what they want or meets their needs ...)"
        risk_type="product",
    ),
    MeasureDef(
        key="nps",
        name="NPS",
        group="voice",
        rank=20,
        compute=_nps,
        weight=lambda h: h.weights.voice.nps,
        unit=number_unit(lambda n: f"{n:g} out of 10"),
        # "ROI (the customer doesn't feel they're getting value)"
        risk_type="roi",
    ),
)
