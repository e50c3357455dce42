"""The cadences of SPEC 5.2: when each reminder is due, and the key that makes it
posted once. Pure functions of dates and the rules; `today` is always a parameter.

Every reminder has a *key* that goes into its hidden marker: the due date or the period
it is about. The bot posts a reminder only when no object carries its marker, so each
is posted once per due period, and a rerun on the same day posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gl_csm.domain.account import Account
from gl_csm.domain.cadence import (
    add_months,
    fiscal_quarter,
    renewal_in_current_or_next_quarter,
    within_months,
)
from gl_csm.domain.rules import Rules

#: An EBR issue is opened this many days before it is due (SPEC 5.2 is silent on the
#: lead time; a quarter gives the CSM time to book the customer's executives).
EBR_LEAD_DAYS = 90
#: The priority review issue is due this many days into the fiscal quarter
#: (handbook 001: reviewed quarterly, coinciding with QBRs, held early in the quarter).
PRIORITY_REVIEW_DAYS = 30
#: The end-of-onboarding note is posted within this many days after the window closed
#: (older accounts ended onboarding long ago: no note for them).
ONBOARDING_NOTE_GRACE_DAYS = 30


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder: its kind, the key of its marker and the date it is due."""

    kind: str
    key: str
    due: date
    detail: str = ""


def periodic_due(anchor: date, every_days: int | None, today: date) -> date | None:
    """The latest of ``anchor + k * every_days`` (k >= 1) that is not after ``today``.

    None when none has come yet (or no cadence). Keying a reminder by this date posts
    one per period for as long as nobody acts.
    """
    if not every_days or every_days <= 0:
        return None
    elapsed = today.toordinal() - anchor.toordinal()
    periods = elapsed // every_days
    if periods < 1:
        return None
    return anchor + timedelta(days=periods * every_days)


# ---------------------------------------------------------------- at-risk updates


def at_risk_interval_days(renewal: date | None, today: date, rules: Rules) -> int:
    """handbook 002 "Frequency of At Risk Timeline Entries": weekly when the renewal is
    this fiscal quarter or next, else monthly (fiscal year start from config)."""
    return _at_risk_cadence(renewal, today, rules)[1]


def _at_risk_cadence(renewal: date | None, today: date, rules: Rules) -> tuple[bool, int]:
    """(renewal soon, days between at-risk updates)."""
    days = rules.cadence.at_risk_update_days
    soon = renewal_in_current_or_next_quarter(renewal, today, rules.fiscal_year_start_month)
    return soon, days.renewal_soon if soon else days.otherwise


@dataclass(frozen=True, slots=True)
class AtRiskUpdate:
    every_days: int
    weekly: bool
    next_due: date  # the date the next at-risk update is expected (triage issue due date)
    reminder: Due | None  # the reminder to post now, if one is due


def at_risk_update(
    opened: date, last_person_note: date | None, renewal: date | None, today: date, rules: Rules
) -> AtRiskUpdate:
    """SPEC 5.2: due when the last note on the triage issue written by a person (or the
    issue's opening, when nobody wrote yet) is older than the cadence."""
    soon, every = _at_risk_cadence(renewal, today, rules)
    anchor = max(opened, last_person_note) if last_person_note else opened
    period = periodic_due(anchor, every, today)
    reminder = None
    if period is not None:
        reminder = Due(
            "at-risk-update",
            f"at-risk-update:{period.isoformat()}",
            period,
            f"{'weekly' if soon else 'monthly'} at-risk update due",
        )
    return AtRiskUpdate(every, soon, anchor + timedelta(days=every), reminder)


# ---------------------------------------------------------------- renewal reviews


def renewal_reviews(renewal: date | None, today: date, rules: Rules) -> tuple[Due, ...]:
    """handbook 004: a renewal within six months gets two Renewal Review meetings, five
    and three months out. Both issues are created as soon as the renewal is within
    the window; the key holds the renewal date, so next year's renewal gets new ones."""
    rr = rules.cadence.renewal_review
    if not within_months(renewal, today, rr.window_months):
        return ()
    assert renewal is not None
    return tuple(
        Due(
            "renewal-review",
            f"renewal-review:{renewal.isoformat()}:{months}",
            add_months(renewal, -months),
            f"renewal review {months} months before the renewal on {renewal.isoformat()}",
        )
        for months in rr.months_before
    )


def next_renewal_review(renewal: date | None, today: date, rules: Rules) -> date | None:
    """The next renewal review date not yet past (for the card)."""
    if renewal is None or renewal < today:
        return None
    dates = sorted(add_months(renewal, -m) for m in rules.cadence.renewal_review.months_before)
    return next((d for d in dates if d >= today), None)


# ---------------------------------------------------------------- EBR


def next_ebr(customer_since: date | None, today: date, rules: Rules) -> date | None:
    """handbook 003: the business review is held at month 6, then yearly (handbook 004:
    "at least once per year"). The first EBR date that is not before ``today``."""
    if customer_since is None:
        return None
    ebr = rules.cadence.ebr
    k = 0
    while True:
        when = add_months(customer_since, ebr.first_after_months + k * ebr.every_months)
        if when >= today:
            return when
        k += 1


def ebr_reminder(
    customer_since: date | None, today: date, rules: Rules, lead_days: int = EBR_LEAD_DAYS
) -> Due | None:
    """The EBR issue to open now: the next EBR, once it is within ``lead_days``."""
    when = next_ebr(customer_since, today, rules)
    if when is None or (when - today).days > lead_days:
        return None
    return Due("ebr", f"ebr:{when.isoformat()}", when, f"executive business review due {when}")


# ---------------------------------------------------------------- priority review


def priority_review(today: date, rules: Rules) -> Due:
    """handbook 001: each account's priority is reviewed quarterly (one issue per CSM
    and fiscal quarter, due early in the quarter)."""
    quarter = fiscal_quarter(today, rules.fiscal_year_start_month)
    due = min(quarter.start + timedelta(days=PRIORITY_REVIEW_DAYS), quarter.end)
    # Marker keys are lowercase: FY2027-Q4 -> fy2027-q4.
    return Due(
        "priority-review",
        f"priority-review:{quarter.name.lower()}",
        due,
        f"priority review {quarter.name}",
    )


# ---------------------------------------------------------------- end of onboarding


def onboarding_end(account: Account, rules: Rules) -> date | None:
    """The day onboarding ended: completed, or the onboarding window closed."""
    since = account.customer_since
    if since is None:
        return None
    window_end = since + timedelta(days=rules.onboarding_window_days.for_segment(account.segment))
    if account.onboarding_completed is not None:
        return min(account.onboarding_completed, window_end)
    return window_end


def onboarding_end_note(
    account: Account, today: date, rules: Rules, grace_days: int = ONBOARDING_NOTE_GRACE_DAYS
) -> Due | None:
    """handbook 001: "Once onboarding is complete, the customer's prioritization should
    be reassessed": one note when the onboarding ends (within the grace days)."""
    ended = onboarding_end(account, rules)
    if ended is None or not (ended <= today < ended + timedelta(days=grace_days)):
        return None
    return Due("onboarding-end", f"onboarding-end:{ended.isoformat()}", ended, "onboarding ended")


# ---------------------------------------------------------------- stale health


def stale_health(
    color: str | None, sentiment_since: date | None, today: date, rules: Rules
) -> Due | None:
    """SPEC 5.2: a yellow/red account whose sentiment has not changed for 30+ days.
    Keyed by the day the sentiment was first seen: once per unchanged sentiment."""
    if color not in ("yellow", "red") or sentiment_since is None:
        return None
    days = rules.cadence.stale_health_days
    if (today - sentiment_since).days < days:
        return None
    return Due(
        "stale-health",
        f"stale-health:{sentiment_since.isoformat()}",
        sentiment_since + timedelta(days=days),
        f"{color} account, sentiment unchanged since {sentiment_since}",
    )


# ---------------------------------------------------------------- escalation updates


def escalation_update_days(severity: str, rules: Rules) -> int | None:
    """SPEC 5.0: critical daily, high every 2 days, medium weekly, low none."""
    return getattr(rules.cadence.escalation_update_days, severity, None)


def escalation_update(
    severity: str, opened: date, last_person_note: date | None, today: date, rules: Rules
) -> Due | None:
    """The escalation update reminder due now, once per period without a person's note."""
    every = escalation_update_days(severity, rules)
    anchor = max(opened, last_person_note) if last_person_note else opened
    period = periodic_due(anchor, every, today)
    if period is None:
        return None
    return Due(
        "escalation-update",
        f"escalation-update:{period.isoformat()}",
        period,
        f"{severity} escalation: update due "
        + ("every day" if every == 1 else f"every {every} days"),
    )
