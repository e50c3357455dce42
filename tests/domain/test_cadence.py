"""SPEC 3 "within N months", SPEC 4 months a customer, SPEC 5.2 fiscal quarters."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from gl_csm.domain.cadence import (
    FiscalQuarter,
    add_months,
    days_between,
    fiscal_quarter,
    fiscal_year,
    milestone_name,
    quarter_end,
    quarter_start,
    renewal_in_current_or_next_quarter,
    whole_months_between,
    within_months,
)

D = date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(D(2026, 11, 23), 3, D(2027, 2, 23), id="plain"),
        pytest.param(D(2026, 11, 30), 3, D(2027, 2, 28), id="month-end-clamps-to-feb-28"),
        pytest.param(D(2027, 11, 30), 3, D(2028, 2, 29), id="month-end-leap-feb-29"),
        pytest.param(D(2026, 1, 31), 1, D(2026, 2, 28), id="jan-31-plus-1"),
        pytest.param(D(2026, 8, 31), 1, D(2026, 9, 30), id="31-to-30-day-month"),
        pytest.param(D(2026, 12, 15), 1, D(2027, 1, 15), id="year-wrap"),
        pytest.param(D(2026, 3, 31), -1, D(2026, 2, 28), id="negative"),
        pytest.param(D(2026, 11, 23), 0, D(2026, 11, 23), id="zero"),
        pytest.param(D(2026, 11, 23), 24, D(2028, 11, 23), id="two-years"),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)), st.integers(-60, 60))
def test_add_months_agrees_with_relativedelta(day: date, months: int) -> None:
    assert add_months(day, months) == day + relativedelta(months=months)


@pytest.mark.parametrize(
    ("when", "today", "months", "expected"),
    [
        pytest.param(D(2027, 2, 23), D(2026, 11, 23), 3, True, id="spec3-within-on-the-edge"),
        pytest.param(D(2027, 2, 24), D(2026, 11, 23), 3, False, id="spec3-within-one-day-past"),
        pytest.param(D(2026, 11, 23), D(2026, 11, 23), 3, True, id="spec3-within-today-included"),
        pytest.param(D(2026, 11, 22), D(2026, 11, 23), 3, False, id="spec3-within-passed"),
        pytest.param(D(2027, 2, 28), D(2026, 11, 30), 3, True, id="spec3-month-end-edge"),
        pytest.param(D(2027, 3, 1), D(2026, 11, 30), 3, False, id="spec3-month-end-past"),
        pytest.param(D(2028, 2, 29), D(2027, 11, 30), 3, True, id="spec3-leap-edge"),
        pytest.param(D(2027, 5, 23), D(2026, 11, 23), 6, True, id="spec3-six-months-edge"),
        pytest.param(D(2027, 8, 23), D(2026, 11, 23), 9, True, id="spec3-nine-months-edge"),
        pytest.param(D(2027, 8, 24), D(2026, 11, 23), 9, False, id="spec3-nine-months-past"),
        pytest.param(None, D(2026, 11, 23), 3, False, id="spec3-missing-never-matches"),
    ],
)
def test_within_months(when: date | None, today: date, months: int, expected: bool) -> None:
    assert within_months(when, today, months) is expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(D(2026, 6, 23), D(2026, 11, 23), 5, id="spec4-months-exact"),
        pytest.param(D(2026, 6, 24), D(2026, 11, 23), 4, id="spec4-months-one-day-short"),
        pytest.param(D(2026, 11, 1), D(2026, 11, 23), 0, id="spec4-months-same-month"),
        pytest.param(D(2026, 1, 31), D(2026, 2, 28), 1, id="spec4-months-month-end"),
        pytest.param(D(2026, 1, 31), D(2026, 2, 27), 0, id="spec4-months-before-month-end"),
        pytest.param(D(2024, 2, 29), D(2025, 2, 28), 12, id="spec4-months-leap-day"),
        pytest.param(D(2023, 11, 24), D(2026, 11, 23), 35, id="spec4-months-years"),
        pytest.param(D(2026, 12, 1), D(2026, 11, 23), 0, id="spec4-months-future-start"),
    ],
)
def test_whole_months_between(start: date, end: date, expected: int) -> None:
    assert whole_months_between(start, end) == expected


@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2050, 1, 1)),
    st.dates(min_value=D(2000, 1, 1), max_value=D(2050, 1, 1)),
)
def test_whole_months_is_the_largest_n_with_add_months_not_after_end(s: date, e: date) -> None:
    if e < s:
        return
    n = whole_months_between(s, e)
    assert add_months(s, n) <= e < add_months(s, n + 1)


@pytest.mark.parametrize(
    ("day", "start_month", "name"),
    [
        pytest.param(D(2026, 2, 1), 2, "FY2027-Q1", id="spec5.2-fy-starts-feb-1"),
        pytest.param(D(2026, 1, 31), 2, "FY2026-Q4", id="spec5.2-jan-31-is-last-day-of-fy"),
        pytest.param(D(2027, 1, 31), 2, "FY2027-Q4", id="spec5.2-fy2027-ends-2027-01-31"),
        pytest.param(D(2026, 4, 30), 2, "FY2027-Q1", id="spec5.2-q1-is-feb-apr"),
        pytest.param(D(2026, 5, 1), 2, "FY2027-Q2", id="spec5.2-q2-starts-may"),
        pytest.param(D(2026, 11, 23), 2, "FY2027-Q4", id="spec5.2-today-q4"),
        pytest.param(D(2026, 10, 31), 2, "FY2027-Q3", id="spec5.2-q3-ends-oct"),
        pytest.param(D(2027, 7, 15), 2, "FY2028-Q2", id="spec5.0-milestone-example"),
        pytest.param(D(2026, 12, 31), 2, "FY2027-Q4", id="spec5.2-dec-in-q4"),
        pytest.param(D(2026, 3, 15), 1, "FY2026-Q1", id="config-calendar-fy"),
        pytest.param(D(2026, 12, 1), 1, "FY2026-Q4", id="config-calendar-fy-q4"),
        pytest.param(D(2026, 9, 30), 10, "FY2026-Q4", id="config-october-start-before"),
        pytest.param(D(2026, 10, 1), 10, "FY2027-Q1", id="config-october-start"),
    ],
)
def test_fiscal_quarter_naming(day: date, start_month: int, name: str) -> None:
    assert milestone_name(day, start_month) == name
    fq = fiscal_quarter(day, start_month)
    assert fq.start <= day <= fq.end
    assert fiscal_year(day, start_month) == fq.year


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        pytest.param(
            D(2026, 11, 23), D(2026, 11, 1), D(2027, 1, 31), id="spec5.2-q4-spans-new-year"
        ),
        pytest.param(D(2026, 2, 14), D(2026, 2, 1), D(2026, 4, 30), id="spec5.2-q1"),
        pytest.param(D(2027, 6, 1), D(2027, 5, 1), D(2027, 7, 31), id="spec5.2-q2"),
        pytest.param(D(2026, 9, 1), D(2026, 8, 1), D(2026, 10, 31), id="spec5.2-q3"),
    ],
)
def test_quarter_start_and_end(day: date, start: date, end: date) -> None:
    assert quarter_start(day) == start
    assert quarter_end(day) == end


def test_fiscal_quarter_next_wraps_the_year() -> None:
    q4 = FiscalQuarter(2027, 4)
    assert q4.next() == FiscalQuarter(2028, 1)
    assert q4.next().start == D(2027, 2, 1)
    assert q4.next().name == "FY2028-Q1"


@pytest.mark.parametrize(
    ("renewal", "today", "expected"),
    [
        pytest.param(D(2026, 12, 15), D(2026, 11, 23), True, id="handbook002-this-quarter"),
        pytest.param(D(2027, 4, 30), D(2026, 11, 23), True, id="handbook002-next-quarter-end"),
        pytest.param(D(2027, 5, 1), D(2026, 11, 23), False, id="handbook002-after-next-quarter"),
        pytest.param(D(2026, 11, 1), D(2026, 11, 23), True, id="handbook002-earlier-this-quarter"),
        pytest.param(D(2026, 10, 31), D(2026, 11, 23), False, id="handbook002-last-quarter"),
        pytest.param(D(2026, 7, 31), D(2026, 5, 1), True, id="handbook002-next-quarter-q3"),
        pytest.param(None, D(2026, 11, 23), False, id="handbook002-no-renewal-date"),
    ],
)
def test_renewal_in_current_or_next_quarter(
    renewal: date | None, today: date, expected: bool
) -> None:
    assert renewal_in_current_or_next_quarter(renewal, today, 2) is expected


def test_days_between() -> None:
    assert days_between(D(2026, 11, 1), D(2026, 11, 23)) == 22
    assert days_between(D(2026, 11, 23), D(2026, 11, 1)) == -22
