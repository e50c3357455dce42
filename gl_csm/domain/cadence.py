"""Date rules shared by priority, health and the cadences of SPEC 5.2.

Pure functions of dates; `today` is always a parameter. Organised by function:
calendar months, fiscal years and quarters, renewal windows. (Reminder rules of
SPEC 5.2 build on these.)

`add_months` clamps to the end of a shorter month, exactly like
`dateutil.relativedelta(months=n)` (the tests check the two agree), but with plain
integer arithmetic: these helpers run for every account on every run.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

# ---------------------------------------------------------------- calendar months


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the last day of a short month.

    2026-11-30 + 3 months = 2027-02-28; 2026-01-31 + 1 month = 2026-02-28.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1] if day.day > 28 else 28
    return date(year, month, min(day.day, last))


def within_months(when: date | None, today: date, months: int) -> bool:
    """SPEC 3: between `today` and `today` + N calendar months, both included.

    A date that has passed, or a missing date, never counts.
    """
    if when is None:
        return False
    return today <= when <= add_months(today, months)


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (SPEC 4 "months a customer").

    The largest n with `add_months(start, n) <= end`, so it agrees with
    `within_months` on month ends (2026-01-31 -> 2026-02-28 is one month).
    Negative when `end` is before `start`.
    """
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    elif months == 0 and end < start:
        return 0
    return months


def days_between(start: date, end: date) -> int:
    """Days from `start` to `end` (negative when `end` is earlier)."""
    return end.toordinal() - start.toordinal()


# ---------------------------------------------------------------- fiscal years and quarters


@dataclass(frozen=True, slots=True, order=True)
class FiscalQuarter:
    """A fiscal quarter; the fiscal year is named by the calendar year in which it ends."""

    year: int
    quarter: int
    start_month: int = 2

    @property
    def name(self) -> str:
        """Milestone name of SPEC 5.0, e.g. `FY2028-Q2`."""
        return f"FY{self.year}-Q{self.quarter}"

    @property
    def start(self) -> date:
        first_year = self.year - 1 if self.start_month != 1 else self.year
        return add_months(date(first_year, self.start_month, 1), 3 * (self.quarter - 1))

    @property
    def end(self) -> date:
        return date.fromordinal(add_months(self.start, 3).toordinal() - 1)

    def next(self) -> FiscalQuarter:
        if self.quarter == 4:
            return FiscalQuarter(self.year + 1, 1, self.start_month)
        return FiscalQuarter(self.year, self.quarter + 1, self.start_month)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def fiscal_year(day: date, start_month: int = 2) -> int:
    """SPEC 5.2: with the February start FY2027 runs 2026-02-01 .. 2027-01-31."""
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_quarter(day: date, start_month: int = 2) -> FiscalQuarter:
    """The fiscal quarter `day` falls in (Q1 is Feb-Apr with the February start)."""
    quarter = (day.month - start_month) % 12 // 3 + 1
    return FiscalQuarter(fiscal_year(day, start_month), quarter, start_month)


def quarter_start(day: date, start_month: int = 2) -> date:
    return fiscal_quarter(day, start_month).start


def quarter_end(day: date, start_month: int = 2) -> date:
    return fiscal_quarter(day, start_month).end


def milestone_name(day: date, start_month: int = 2) -> str:
    """Milestone named after the fiscal quarter of `day`, e.g. `FY2028-Q2`."""
    return fiscal_quarter(day, start_month).name


# ---------------------------------------------------------------- renewal windows


def renewal_in_current_or_next_quarter(
    renewal: date | None, today: date, start_month: int = 2
) -> bool:
    """handbook 002: "If customer renewal is this fiscal quarter or next" (weekly updates).

    A renewal earlier in the current quarter still counts; a missing one never does.
    """
    if renewal is None:
        return False
    current = fiscal_quarter(today, start_month)
    return current.start <= renewal <= current.next().end
