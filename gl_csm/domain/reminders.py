"""The cadences of SPEC 5.2: when each reminder is due, and the key that makes it
posted once. Pure functions of dates and the rules; `today` is always a parameter.

Every reminder has a *key* that goes into its hidden marker: the due date or the period
it is about. The bot posts a reminder only when no object carries its marker, so each
is posted once per due period, and a rerun on the same day posts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from gl_csm.domain.account import Account
from gl_csm.domain.cadence import (
    add_months,
    fiscal_quarter,
    renewal_in_current_or_next_quarter,
    within_months,
)
from gl_csm.domain.rules import ReminderKind, Rules


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder: its kind, the key of its marker and the date it is due."""

    kind: str
    key: str
    due: date
    detail: str = ""
    #: A reminder kind's stage (months from its anchor) and the anchor it counts from.
    stage: int = 0
    anchor: date | None = None


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
            # The rule that made it due, by its gl-csm.yml name (README rules table).
            f"{'weekly' if soon else 'monthly'} at-risk update due (cadence.at_risk_update_days."
            f"{'renewal_soon' if soon else 'otherwise'})",
        )
    return AtRiskUpdate(every, soon, anchor + timedelta(days=every), reminder)


# ---------------------------------------------------------------- reminder kinds

# Every kind of `rules.reminders` (renewal reviews, EBRs, the priority review, the end of
# onboarding, and any a config adds) runs through these functions: its *stages* are
# dates counted in months from an *anchor* date of the account (or from the current
# fiscal quarter), repeated every `every_months` when set.


def anchor_of(
    kind: ReminderKind, account: Account | None, today: date, rules: Rules
) -> date | None:
    """The date ``kind`` counts from for ``account`` (None: the account has none)."""
    if kind.anchor == "fiscal_quarter":
        return fiscal_quarter(today, rules.fiscal_year_start_month).start
    if account is None:
        return None
    if kind.anchor == "onboarding_end":
        return onboarding_end(account, rules)
    value = getattr(account, kind.anchor)
    return value if isinstance(value, date) else None


def applies_to(kind: ReminderKind, account: Account) -> bool:
    """Which accounts get the kind: its segments, and digital accounts or not."""
    if kind.segments and account.segment not in kind.segments:
        return False
    return kind.digital or not account.digital


def stage_date(kind: ReminderKind, anchor: date, months: int) -> date:
    """The date of the stage ``months`` from ``anchor`` (plus the kind's days_after)."""
    return add_months(anchor, months) + timedelta(days=kind.days_after)


def reminder_key(kind: ReminderKind, anchor: date, stage: int, due: date, rules: Rules) -> str:
    """The marker key of one stage: the quarter for a quarterly kind; anchor and stage
    for a kind of several stages counted once from its anchor (a moved anchor is seen in
    the key); otherwise the due date."""
    if kind.anchor == "fiscal_quarter":
        return f"{kind.name}:{fiscal_quarter(anchor, rules.fiscal_year_start_month).name.lower()}"
    if len(kind.months) > 1 and not kind.every_months:
        return f"{kind.name}:{anchor.isoformat()}:{abs(stage)}"
    return f"{kind.name}:{due.isoformat()}"


def _due(kind: ReminderKind, anchor: date, stage: int, rules: Rules, shift: int = 0) -> Due:
    """Stage ``stage`` of the cycle ``shift`` months after the first."""
    if kind.anchor == "fiscal_quarter":
        quarter = fiscal_quarter(anchor, rules.fiscal_year_start_month)
        when = min(stage_date(kind, quarter.start, stage), quarter.end)
        detail = f"{kind.title.lower()} {quarter.name}"
    else:
        when = stage_date(kind, anchor, stage + shift)
        detail = f"{kind.title.lower()} {when.isoformat()}"
    key = reminder_key(kind, anchor, stage, when, rules)
    return Due(kind.name, key, when, detail, stage, anchor)


#: The series already computed (a run asks for an account's series for its stages, its
#: next date and its open issues): by kind, anchor, end and fiscal year; cleared when full.
_SERIES: dict[tuple[ReminderKind, date, date, int], tuple[Due, ...]] = {}
_SERIES_MAX = 16_384


def _series(kind: ReminderKind, anchor: date, until: date, rules: Rules) -> tuple[Due, ...]:
    """The kind's stages from ``anchor`` in date order, up to the first cycle that ends
    after ``until`` (computed once per kind, anchor and end: a pure function of them and
    the fiscal year, which alone of the rules it reads)."""
    key = (kind, anchor, until, rules.fiscal_year_start_month)
    found = _SERIES.get(key)
    if found is None:
        if len(_SERIES) >= _SERIES_MAX:
            _SERIES.clear()
        found = _SERIES[key] = tuple(_stages_until(kind, anchor, until, rules))
    return found


def _stages_until(kind: ReminderKind, anchor: date, until: date, rules: Rules) -> Iterator[Due]:
    k = 0
    while True:
        cycle = sorted(
            (_due(kind, anchor, m, rules, k * kind.every_months) for m in kind.months),
            key=lambda d: d.due,
        )
        yield from cycle
        if not kind.every_months or cycle[-1].due > until:
            return
        k += 1


def stages(
    kind: ReminderKind, account: Account | None, today: date, rules: Rules
) -> tuple[Due, ...]:
    """The stages that exist today, in date order: those of the anchor's window (all of
    them when no window), the next one of a repeating kind. Stages already past are
    folded into the latest of them (SPEC 5.2: "folded into one review due today"); a
    kind with grace days drops a stage past them."""
    anchor = anchor_of(kind, account, today, rules)
    if anchor is None:
        return ()
    if kind.window_months and not within_months(anchor, today, kind.window_months):
        return ()
    if kind.anchor == "fiscal_quarter":
        return (_due(kind, anchor, kind.months[0], rules),)
    found = list(_series(kind, anchor, today, rules))
    if kind.every_months:
        # A repeating kind is opened for its next date only (a year-old EBR is not).
        return tuple(d for d in found if d.due >= today)[:1]
    past = [d for d in found if d.due < today]
    ahead = [d for d in found if d.due >= today]
    if kind.grace_days is not None:
        past = [d for d in past if today < d.due + timedelta(days=kind.grace_days)]
    return tuple(past[-1:] + ahead)


def due_now(
    kind: ReminderKind, account: Account | None, today: date, rules: Rules
) -> tuple[Due, ...]:
    """The stages to open (or post) today: those that exist and are within the lead."""
    if account is None:
        return _due_now_of_none(kind, today, _FiscalYear(rules.fiscal_year_start_month))
    return _due_now(kind, account, today, rules)


@dataclass(frozen=True)
class _FiscalYear:
    """The one rule a kind counted from no account reads (anchor_of, _due, _series)."""

    fiscal_year_start_month: int


@lru_cache(maxsize=256)
def _due_now_of_none(kind: ReminderKind, today: date, fiscal: _FiscalYear) -> tuple[Due, ...]:
    """:func:`due_now` without an account (a CSM's review): the same for every account of
    a run, which asks it several times per account (reminder_issues.py); a pure function
    of the kind, the day and the fiscal year, so computed once for them."""
    return _due_now(kind, None, today, fiscal)  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _next_in_quarter(kind: ReminderKind, today: date, fiscal: _FiscalYear) -> date:
    """:func:`next_date` of a kind counted from the fiscal quarter: a pure function of
    the kind, the day and the fiscal year."""
    rules: Any = fiscal  # the one rule anchor_of and _due read of it
    anchor = fiscal_quarter(today, fiscal.fiscal_year_start_month).start
    due = _due(kind, anchor, kind.months[0], rules).due
    if due >= today:
        return due
    after = fiscal_quarter(today, fiscal.fiscal_year_start_month).next().start
    return _due(kind, after, kind.months[0], rules).due


def _due_now(
    kind: ReminderKind, account: Account | None, today: date, rules: Rules
) -> tuple[Due, ...]:
    return tuple(
        d
        for d in stages(kind, account, today, rules)
        if kind.lead_days is None or today >= d.due - timedelta(days=kind.lead_days)
    )


def next_date(
    kind: ReminderKind, account: Account | None, today: date, rules: Rules
) -> date | None:
    """The kind's next date not yet past (for the card), window or not."""
    if kind.anchor == "fiscal_quarter":
        # Counted from the quarter, not the account: the same on every card of a run.
        return _next_in_quarter(kind, today, _FiscalYear(rules.fiscal_year_start_month))
    anchor = anchor_of(kind, account, today, rules)
    if anchor is None:
        return None
    return next((d.due for d in _series(kind, anchor, today, rules) if d.due >= today), None)


def parse_key(kind: ReminderKind, key: str) -> tuple[date, int | None] | None:
    """(anchor, stage) from a key that holds them, (due date, None) from one keyed by its
    due date; None for a key of another shape (a quarter) or another kind."""
    parts = key.split(":")
    if not parts or parts[0] != kind.name:
        return None
    try:
        if len(parts) == 3 and parts[2].isdigit():
            return date.fromisoformat(parts[1]), int(parts[2])
        if len(parts) == 2:
            return date.fromisoformat(parts[1]), None
    except ValueError:
        return None
    return None


def stage_of(kind: ReminderKind, key: str) -> int | None:
    """The stage (months from the anchor) a key names; a single-stage kind's only one."""
    parsed = parse_key(kind, key)
    if parsed is not None and parsed[1] is not None:
        wanted = parsed[1]
        return next((m for m in kind.months if abs(m) == wanted), None)
    return kind.months[0] if len(kind.months) == 1 else None


def still_current(
    kind: ReminderKind, account: Account | None, key: str, today: date, rules: Rules
) -> bool:
    """Whether an open issue keyed ``key`` still belongs to the account's anchor: False
    once the anchor moved (a new renewal date, a corrected customer_since) or is gone,
    so the engine re-dates or closes it. A quarterly kind's key is always current."""
    if kind.anchor == "fiscal_quarter":
        return True
    parsed = parse_key(kind, key)
    anchor = anchor_of(kind, account, today, rules)
    if parsed is None or anchor is None:
        return parsed is None
    when, stage = parsed
    if stage is not None:
        return when == anchor
    return any(d.due == when for d in _series(kind, anchor, when, rules))


def onboarding_end(account: Account, rules: Rules) -> date | None:
    """The day onboarding ended: completed, or the onboarding window closed."""
    since = account.customer_since
    if since is None:
        return None
    window_end = since + timedelta(days=rules.onboarding_window_days.for_segment(account.segment))
    if account.onboarding_completed is not None:
        return min(account.onboarding_completed, window_end)
    return window_end


# ---------------------------------------------------------------- stale health


#: Who gets the stale-health note (SPEC 5.2): the colors it is for ...
STALE_HEALTH_COLORS: tuple[str, ...] = ("yellow", "red")
#: ... and the lifecycles that get none, with the reason the card gives. A customer
#: concluded lost (handbook 002 "Will Churn": "the customer is lost") has nobody
#: refreshing its health, so a note asking for it every cadence would only be noise.
NO_STALE_HEALTH: tuple[tuple[str, str], ...] = (
    (
        "will-churn",
        "none, the customer is lost (lifecycle will-churn), so its health is no longer reviewed",
    ),
    (
        "churned",
        "none, the customer is lost (lifecycle churned), so its health is no longer reviewed",
    ),
)


def stale_health_withheld(lifecycle: str | None) -> str | None:
    """Why an account of ``lifecycle`` gets no stale-health note (None: it gets them)."""
    return dict(NO_STALE_HEALTH).get(lifecycle or "")


def stale_health(
    color: str | None,
    lifecycle: str | None,
    sentiment_since: date | None,
    today: date,
    rules: Rules,
) -> Due | None:
    """SPEC 5.2: a yellow/red account whose sentiment has not changed for 30+ days,
    unless its lifecycle gets none (:data:`NO_STALE_HEALTH`). Keyed by the day the
    sentiment was first seen: once per unchanged sentiment."""
    if color not in STALE_HEALTH_COLORS or sentiment_since is None:
        return None
    if stale_health_withheld(lifecycle) is not None:
        return None
    days = rules.cadence.stale_health_days
    if (today - sentiment_since).days < days:
        return None
    return Due(
        "stale-health",
        f"stale-health:{sentiment_since.isoformat()}",
        sentiment_since + timedelta(days=days),
        # The rule that made it due, by its gl-csm.yml name (README rules table).
        f"{color} account, sentiment unchanged since {sentiment_since}, past "
        "cadence.stale_health_days",
    )


# ---------------------------------------------------------------- escalation updates


def escalation_update_days(severity: str, rules: Rules) -> int | None:
    """SPEC 5.0: critical daily, high every 2 days, medium weekly, low none."""
    return getattr(rules.cadence.escalation_update_days, severity, None)


def escalation_update_key(period: date) -> str:
    """The key of the escalation update reminder of the period due on ``period``."""
    return f"escalation-update:{period.isoformat()}"


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
        escalation_update_key(period),
        period,
        f"{severity} escalation: update due "
        + ("every day" if every == 1 else f"every {every} days")
        # The rule that made it due, by its gl-csm.yml name (README rules table).
        + f" (cadence.escalation_update_days.{severity})",
    )
