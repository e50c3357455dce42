"""Portfolio figures from the triage results, one rule for the summary issue and the
dashboard (SPEC 5 Portfolio view): which accounts have a health, how long an account
has been in triage, whether its at-risk update is overdue, and the dollars by health.

The input rows are those of `gl-csm triage --format json` (``accounts``). Pure: the
caller passes ``today``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

#: Health keys in the order people read them; "unknown" is an account without a
#: health: pre-sales (SPEC 4: "Pre-sales accounts get no health") or no scorecard data.
HEALTH_KEYS = ("green", "yellow", "red", "unknown")
#: The window of "ARR renewing soon": a quarter, the horizon of the at-risk cadence
#: (SPEC 5.2: weekly updates when the renewal falls in the current or next quarter).
RENEWING_DAYS = 90
PRE_SALES = "pre-sales"


def health_key(row: Mapping[str, Any]) -> str:
    health = row.get("health")
    return health if health in ("green", "yellow", "red") else "unknown"


def is_pre_sales(row: Mapping[str, Any]) -> bool:
    """A prospect: no health, and its `arr` is not revenue yet (SPEC 2, 4)."""
    return row.get("lifecycle") == PRE_SALES


def arr_of(row: Mapping[str, Any]) -> float | None:
    value = row.get("arr")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def days_in_triage(row: Mapping[str, Any], today: date) -> int | None:
    """Days since the triage issue opened (``triage_since``); None when not in triage."""
    if not row.get("triage"):
        return None
    since = _day(row.get("triage_since"))
    return None if since is None else max((today - since).days, 0)


def update_overdue(row: Mapping[str, Any], today: date) -> bool:
    """The next at-risk update was due before today (SPEC 5.2 cadence)."""
    due = _day(row.get("at_risk_due"))
    return due is not None and due < today


def renews_within(row: Mapping[str, Any], today: date, days: int = RENEWING_DAYS) -> bool:
    when = _day(row.get("renewal_date"))
    return when is not None and today <= when <= today + timedelta(days=days)


def _zero() -> dict[str, float]:
    return dict.fromkeys(HEALTH_KEYS, 0.0)


@dataclass(frozen=True)
class Dollars:
    """ARR of the post-sales accounts (pre-sales kept apart: a prospect's `arr` is the
    deal being worked, not revenue at risk)."""

    by_health: dict[str, float] = field(default_factory=_zero)
    renewing: dict[str, float] = field(default_factory=_zero)
    accounts_by_health: dict[str, int] = field(default_factory=dict)
    renewing_accounts: dict[str, int] = field(default_factory=dict)
    in_triage: float = 0.0
    triage_accounts: int = 0
    in_escalation: float = 0.0
    escalation_accounts: int = 0
    #: the registry's `arr` of the pre-sales accounts; None when none of them has one
    pre_sales: float | None = None
    pre_sales_accounts: int = 0
    #: post-sales accounts whose registry has no `arr` (counted nowhere in dollars)
    without_arr: tuple[str, ...] = ()
    days: int = RENEWING_DAYS

    @property
    def total(self) -> float:
        return sum(self.by_health.values())

    @property
    def renewing_total(self) -> float:
        return sum(self.renewing.values())


def dollars(rows: Iterable[Mapping[str, Any]], today: date, days: int = RENEWING_DAYS) -> Dollars:
    by_health, renewing = _zero(), _zero()
    n_health, n_renewing = dict.fromkeys(HEALTH_KEYS, 0), dict.fromkeys(HEALTH_KEYS, 0)
    triage = escalation = 0.0
    pre: float | None = None
    n_triage = n_escalation = n_pre = 0
    missing: list[str] = []
    for row in rows:
        arr = arr_of(row)
        if is_pre_sales(row):
            n_pre += 1
            if arr is not None:
                pre = (pre or 0.0) + arr
            continue
        if arr is None:
            missing.append(str(row.get("slug")))
            continue
        key = health_key(row)
        by_health[key] += arr
        n_health[key] += 1
        if renews_within(row, today, days):
            renewing[key] += arr
            n_renewing[key] += 1
        if row.get("triage"):
            triage += arr
            n_triage += 1
        if row.get("escalation"):
            escalation += arr
            n_escalation += 1
    return Dollars(
        by_health=by_health,
        renewing=renewing,
        accounts_by_health=n_health,
        renewing_accounts=n_renewing,
        in_triage=triage,
        triage_accounts=n_triage,
        in_escalation=escalation,
        escalation_accounts=n_escalation,
        pre_sales=pre,
        pre_sales_accounts=n_pre,
        without_arr=tuple(sorted(missing)),
        days=days,
    )


def money(value: float | None) -> str:
    """``$1,250,000`` (whole dollars), ``-`` without a value."""
    return "-" if value is None else f"${value:,.0f}"
