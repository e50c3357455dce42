"""Priority (SPEC section 3): `priority::1` .. `priority::4` with the reasons that decided it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gl_csm.domain.account import Account
from gl_csm.domain.cadence import add_months
from gl_csm.domain.rules import Rules


@dataclass(frozen=True, slots=True)
class PriorityResult:
    """`priority` is None only for pre-sales accounts; `reasons` are short and human."""

    priority: int | None
    reasons: tuple[str, ...]


def in_onboarding(account: Account, rules: Rules, today: date) -> bool:
    """SPEC 3: paid, onboarding not completed, fewer than the window's days since paying."""
    # handbook 001: "A new CSM-assigned customer ... will default to Pr1 until their
    # onboarding enablement is complete"; strategic "first 60 days", commercial "45 days".
    since = account.customer_since
    if since is None or account.onboarding_completed is not None:
        return False
    window = rules.onboarding_window_days.for_segment(account.segment)
    return today.toordinal() - since.toordinal() < window


def _opportunity_within(
    account: Account, types: tuple[str, ...], today: date, months: int
) -> date | None:
    """Earliest close date of an open opportunity of `types` within `months` (SPEC 3)."""
    edge = add_months(today, months)
    best: date | None = None
    for opp in account.opportunities:
        close = opp.close_date
        if (
            opp.type in types
            and close is not None
            and today <= close <= edge
            and (best is None or close < best)
        ):
            best = close
    return best


def _strategic(
    account: Account, rules: Rules, today: date, at_risk: str | None, onboarding: bool
) -> list[str]:
    # handbook 001: Strategic prioritization model — uptier in 3 months, contraction or
    # churn risk, first 60 days of onboarding, within P1 ARR limits.
    r = rules.priority.strategic
    reasons = []
    close = _opportunity_within(account, ("uptier",), today, r.uptier_months)
    if close is not None:
        reasons.append(
            f"strategic: uptier opportunity closes {close.isoformat()} "
            f"(within {r.uptier_months} months)"
        )
    if at_risk:
        reasons.append(f"strategic: at risk ({at_risk})")
    if onboarding:
        reasons.append("strategic: in onboarding")
    if account.arr is not None and account.arr >= r.p1_arr:
        reasons.append(f"strategic: ARR {account.arr:,.0f} >= {r.p1_arr:,.0f}")
    return reasons


def _growth(
    account: Account, rules: Rules, today: date, at_risk: str | None, onboarding: bool
) -> list[str]:
    # handbook 001: Growth accounts — growth/uptier within 6 months, active use-case
    # planning, contraction or churn risk, onboarding.
    months = rules.priority.growth.opportunity_months
    reasons = []
    close = _opportunity_within(account, ("uptier", "growth"), today, months)
    if close is not None:
        reasons.append(
            f"growth: uptier or growth opportunity closes {close.isoformat()} "
            f"(within {months} months)"
        )
    if account.success_plan.active_use_case_planning:
        reasons.append("growth: active use-case planning")
    if at_risk:
        reasons.append(f"growth: at risk ({at_risk})")
    if onboarding:
        reasons.append("growth: in onboarding")
    return reasons


def _scale(
    account: Account, rules: Rules, today: date, at_risk: str | None, onboarding: bool
) -> list[str]:
    # handbook 001: "The Scale Account prioritization model will be defined" — SPEC 3
    # uses at risk or in onboarding until then.
    reasons = []
    if at_risk:
        reasons.append(f"scale: at risk ({at_risk})")
    if onboarding:
        reasons.append("scale: in onboarding")
    return reasons


def _commercial(
    account: Account, rules: Rules, today: date, at_risk: str | None, onboarding: bool
) -> list[str]:
    # handbook 001: Commercial qualification criteria for Priority 1, plus the
    # considerations a CSM may use to qualify up (uptier <= 9 months, negative NPS,
    # key logo, channel engagement) and "P1 only until we have captured Objectives".
    r = rules.priority.commercial
    reasons = []
    if account.arr is not None and account.arr >= r.p1_arr:
        reasons.append(f"commercial: ARR {account.arr:,.0f} >= {r.p1_arr:,.0f}")
    if onboarding:
        reasons.append("commercial: in onboarding")
    if account.success_plan.critical_initiative:
        reasons.append("commercial: critical initiative in the success plan")
    close = _opportunity_within(account, ("uptier", "growth"), today, r.opportunity_months)
    if close is not None:
        reasons.append(
            f"commercial: uptier or growth opportunity closes {close.isoformat()} "
            f"(within {r.opportunity_months} months)"
        )
    if account.growth_intent:
        reasons.append("commercial: customer stated intent to grow")
    # SPEC 3: a missing stages_adopted counts as no stage adopted.
    stages = len(account.stages_adopted or ())
    if stages < r.min_stages:
        adopted = f"{stages} stage{'' if stages == 1 else 's'} adopted"
        reasons.append(f"commercial: {adopted} (fewer than {r.min_stages})")
    if at_risk:
        reasons.append(f"commercial: at risk ({at_risk})")
    if account.success_plan.objectives == 0:
        reasons.append("commercial: no success plan objectives captured yet")
    # Only when no uptier already counted above, so one opportunity gives one reason.
    uptier = _opportunity_within(account, ("uptier",), today, r.uptier_months)
    near = _opportunity_within(account, ("uptier",), today, r.opportunity_months)
    if uptier is not None and near is None:
        reasons.append(
            f"commercial: uptier opportunity closes {uptier.isoformat()} "
            f"(within {r.uptier_months} months)"
        )
    if account.nps is not None and account.nps <= r.p1_nps_max:
        reasons.append(f"commercial: NPS {account.nps} (<= {r.p1_nps_max})")
    if account.key_logo:
        reasons.append("commercial: key logo")
    if account.channel_engaged:
        reasons.append("commercial: channel partner engaged")
    return reasons


_BY_SEGMENT = {
    "strategic": _strategic,
    "growth": _growth,
    "scale": _scale,
    "commercial": _commercial,
}


def assess_priority(
    account: Account,
    rules: Rules,
    today: date,
    *,
    at_risk: bool,
    at_risk_because: str = "contraction or needs triage",
) -> PriorityResult:
    """SPEC 3, in order, first match wins. `at_risk=False` gives the base priority (SPEC 4).

    `at_risk_because` is the text shown in the at-risk reason.
    """
    if account.customer_since is None:
        return PriorityResult(None, ("pre-sales: no customer_since, no priority",))
    # handbook 001: "Pr4 is only for our digital customers".
    if account.digital:
        return PriorityResult(4, ("digital customer (not CSM-assigned)",))
    # handbook 001: "Pr3 is solely for unmanaged child accounts".
    if account.parent is not None and not account.managed:
        return PriorityResult(3, (f"child account of {account.parent}, not managed on its own",))
    # handbook 001: Priority exceptions, documented with their reason.
    if account.exception is not None:
        exc = account.exception
        return PriorityResult(exc.priority, (f"priority exception: {exc.reason}",))
    onboarding = in_onboarding(account, rules, today)
    reasons = _BY_SEGMENT[account.segment](
        account, rules, today, at_risk_because if at_risk else None, onboarding
    )
    if reasons:
        return PriorityResult(1, tuple(reasons))
    return PriorityResult(2, (f"{account.segment}: no priority-1 criterion met",))
