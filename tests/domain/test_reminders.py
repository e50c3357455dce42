"""SPEC 5.2 cadences (handbook 001-004): when each reminder is due, and its key."""

from __future__ import annotations

from datetime import date

import pytest

from gl_csm.domain.reminders import (
    Due,
    at_risk_interval_days,
    at_risk_update,
    due_now,
    escalation_update,
    next_date,
    periodic_due,
    stale_health,
    stale_health_withheld,
    still_current,
)
from gl_csm.domain.rules import DEFAULT_RULES as R
from gl_csm.domain.rules import rules_from_mapping
from tests.domain.factories import account

D = date.fromisoformat
RENEWAL, EBR = R.reminder("renewal-review"), R.reminder("ebr")
PRIORITY, ONBOARDING = R.reminder("priority-review"), R.reminder("onboarding-end")


def renewal_reviews(renewal: date | None, today: date) -> tuple[Due, ...]:
    return due_now(RENEWAL, account(renewal_date=renewal), today, R)


def ebr_reminder(since: date | None, today: date) -> Due | None:
    found = due_now(EBR, account(customer_since=since), today, R)
    return found[0] if found else None


@pytest.mark.parametrize(
    ("rule", "renewal", "today", "days"),
    [
        # FY2027 Q4 = 2026-11-01 .. 2027-01-31; FY2028 Q1 = 2027-02-01 .. 2027-04-30.
        ("renewal in the current fiscal quarter: weekly", "2027-01-15", "2026-11-23", 7),
        ("renewal in the next fiscal quarter: weekly", "2027-04-30", "2026-11-23", 7),
        ("renewal after the next quarter: monthly", "2027-05-01", "2026-11-23", 30),
        ("crossing the quarter boundary makes it weekly", "2027-05-01", "2026-02-01", 30),
        ("...on the first day of the previous quarter", "2027-05-01", "2027-02-01", 7),
        ("last day of the quarter before: still monthly", "2027-05-01", "2027-01-31", 30),
        ("no renewal date: monthly", None, "2026-11-23", 30),
        ("a renewal earlier this quarter still counts", "2026-11-02", "2026-11-23", 7),
    ],
)
def test_at_risk_interval(rule: str, renewal: str | None, today: str, days: int) -> None:
    assert at_risk_interval_days(renewal and D(renewal), D(today), R) == days, rule


@pytest.mark.parametrize(
    ("rule", "opened", "last", "today", "key", "next_due"),
    [
        ("fresh issue: nothing due", "2026-11-20", None, "2026-11-23", None, "2026-11-27"),
        (
            "7 days after opening, no note: due",
            "2026-11-16",
            None,
            "2026-11-23",
            "at-risk-update:2026-11-23",
            "2026-11-23",
        ),
        (
            "a person's note resets the clock",
            "2026-11-01",
            "2026-11-20",
            "2026-11-23",
            None,
            "2026-11-27",
        ),
        (
            "two weeks without a note: the second period's key",
            "2026-11-01",
            "2026-11-08",
            "2026-11-23",
            "at-risk-update:2026-11-22",
            "2026-11-15",
        ),
    ],
)
def test_at_risk_update_weekly(
    rule: str, opened: str, last: str | None, today: str, key: str | None, next_due: str
) -> None:
    got = at_risk_update(D(opened), last and D(last), D("2027-01-31"), D(today), R)
    assert got.weekly and got.every_days == 7
    assert (got.reminder.key if got.reminder else None) == key, rule
    assert got.next_due == D(next_due), rule


def test_at_risk_update_monthly_when_renewal_is_far() -> None:
    got = at_risk_update(D("2026-11-01"), None, D("2027-10-31"), D("2026-11-23"), R)
    assert not got.weekly and got.every_days == 30 and got.reminder is None
    got = at_risk_update(D("2026-10-01"), None, D("2027-10-31"), D("2026-11-23"), R)
    assert got.reminder is not None and got.reminder.key == "at-risk-update:2026-10-31"


@pytest.mark.parametrize(
    ("anchor", "every", "today", "due"),
    [
        ("2026-11-01", 7, "2026-11-07", None),
        ("2026-11-01", 7, "2026-11-08", "2026-11-08"),
        ("2026-11-01", 7, "2026-11-20", "2026-11-15"),
        ("2026-11-01", None, "2027-01-01", None),
        ("2026-11-01", 1, "2026-11-01", None),
        ("2026-11-01", 1, "2026-11-03", "2026-11-03"),
    ],
)
def test_periodic_due(anchor: str, every: int | None, today: str, due: str | None) -> None:
    got = periodic_due(D(anchor), every, D(today))
    assert got == (due and D(due))


@pytest.mark.parametrize(
    ("rule", "renewal", "today", "expected"),
    [
        (
            "renewal exactly 6 months ahead: both reviews",
            "2027-05-23",
            "2026-11-23",
            [
                ("renewal-review:2027-05-23:5", "2026-12-23"),
                ("renewal-review:2027-05-23:3", "2027-02-23"),
            ],
        ),
        ("renewal 6 months + 1 day ahead: none yet", "2027-05-24", "2026-11-23", []),
        ("renewal passed: none", "2026-11-22", "2026-11-23", []),
        ("no renewal: none", None, "2026-11-23", []),
        (
            "renewal in 2 months: both stages past, folded into one (the later)",
            "2027-01-23",
            "2026-11-23",
            [("renewal-review:2027-01-23:3", "2026-10-23")],
        ),
        (
            "renewal in 4 months: the past stage kept, the one ahead too",
            "2027-03-23",
            "2026-11-23",
            [
                ("renewal-review:2027-03-23:5", "2026-10-23"),
                ("renewal-review:2027-03-23:3", "2026-12-23"),
            ],
        ),
    ],
)
def test_renewal_reviews(rule: str, renewal: str | None, today: str, expected: list) -> None:
    got = renewal_reviews(renewal and D(renewal), D(today))
    assert [(d.key, d.due.isoformat()) for d in got] == expected, rule


def test_next_renewal_review() -> None:
    def next_review(today: str) -> date | None:
        return next_date(RENEWAL, account(renewal_date=D("2027-05-23")), D(today), R)

    assert next_review("2026-11-23") == D("2026-12-23")
    assert next_review("2027-01-01") == D("2027-02-23")
    assert next_review("2027-03-01") is None


def test_a_moved_anchor_is_no_longer_current() -> None:
    """A review keyed by the old renewal date (or an EBR by a date of the old series)
    is not the account's any more: the engine re-dates or closes it."""
    moved = account(renewal_date=D("2027-02-28"), customer_since=D("2025-07-01"))
    today = D("2026-12-20")
    assert still_current(RENEWAL, moved, "renewal-review:2027-02-28:3", today, R)
    assert not still_current(RENEWAL, moved, "renewal-review:2027-03-31:3", today, R)
    assert still_current(EBR, moved, "ebr:2027-01-01", today, R)
    assert not still_current(EBR, moved, "ebr:2026-12-15", today, R)
    # An EBR past its date and still open stays the account's (it is overdue).
    assert still_current(EBR, moved, "ebr:2026-01-01", today, R)


@pytest.mark.parametrize(
    ("rule", "since", "today", "due", "key"),
    [
        ("EBR at month 6", "2026-06-15", "2026-11-23", "2026-12-15", "ebr:2026-12-15"),
        ("not yet within the 90-day lead", "2026-09-01", "2026-11-23", None, None),
        ("on the due date itself", "2026-05-23", "2026-11-23", "2026-11-23", "ebr:2026-11-23"),
        ("then yearly (month 18)", "2025-06-01", "2026-11-23", "2026-12-01", "ebr:2026-12-01"),
        ("pre-sales: none", None, "2026-11-23", None, None),
    ],
)
def test_ebr(rule: str, since: str | None, today: str, due: str | None, key: str | None) -> None:
    got = ebr_reminder(since and D(since), D(today))
    assert (got.due.isoformat() if got else None) == due, rule
    assert (got.key if got else None) == key, rule


def test_next_ebr_month_6_then_yearly() -> None:
    since = account(customer_since=D("2026-01-31"))
    assert next_date(EBR, since, D("2026-02-01"), R) == D("2026-07-31")
    assert next_date(EBR, since, D("2026-08-01"), R) == D("2027-07-31")


def test_priority_review_quarterly() -> None:
    (got,) = due_now(PRIORITY, None, D("2026-11-23"), R)
    assert got.key == "priority-review:fy2027-q4"
    assert got.due == D("2026-12-01")
    assert due_now(PRIORITY, None, D("2027-02-01"), R)[0].key == "priority-review:fy2028-q1"
    # Past its date: the card's next date is the next quarter's.
    assert next_date(PRIORITY, None, D("2026-12-20"), R) == D("2027-03-03")


def test_a_kind_added_by_config_counts_like_the_others() -> None:
    rules = rules_from_mapping(
        {
            "reminders": {
                "success-plan-review": {
                    "title": "Success plan review",
                    "months": [6],
                    "every_months": 6,
                    "lead_days": 14,
                }
            }
        }
    )
    kind = rules.reminder("success-plan-review")
    since = account(customer_since=D("2025-06-01"))
    assert due_now(kind, since, D("2026-11-16"), rules) == ()  # 2026-12-01 is 15 days out
    (due,) = due_now(kind, since, D("2026-11-17"), rules)
    assert (due.key, due.due) == ("success-plan-review:2026-12-01", D("2026-12-01"))
    assert next_date(kind, since, D("2026-12-02"), rules) == D("2027-06-01")


@pytest.mark.parametrize(
    ("rule", "keys", "today", "key"),
    [
        (
            "window closes (strategic 60 days): note",
            {"customer_since": "2026-09-20", "onboarding_completed": None},
            "2026-11-19",
            "onboarding-end:2026-11-19",
        ),
        (
            "still inside the window: none",
            {"customer_since": "2026-10-20", "onboarding_completed": None},
            "2026-11-23",
            None,
        ),
        (
            "completed early: ended on completion",
            {"customer_since": "2026-10-01", "onboarding_completed": "2026-11-10"},
            "2026-11-23",
            "onboarding-end:2026-11-10",
        ),
        (
            "ended long ago: no note",
            {"customer_since": "2024-01-01", "onboarding_completed": "2024-02-01"},
            "2026-11-23",
            None,
        ),
        (
            "pre-sales: none",
            {"customer_since": None, "onboarding_completed": None},
            "2026-11-23",
            None,
        ),
    ],
)
def test_onboarding_end(rule: str, keys: dict, today: str, key: str | None) -> None:
    data = {k: (D(v) if isinstance(v, str) else v) for k, v in keys.items()}
    got = due_now(ONBOARDING, account(**data), D(today), R)
    assert (got[0].key if got else None) == key, rule


@pytest.mark.parametrize(
    ("rule", "color", "since", "key"),
    [
        ("yellow, 30 days unchanged: stale", "yellow", "2026-10-24", "stale-health:2026-10-24"),
        ("yellow, 29 days: not yet", "yellow", "2026-10-25", None),
        ("red, 60 days: stale", "red", "2026-09-24", "stale-health:2026-09-24"),
        ("green never stale", "green", "2026-01-01", None),
        ("no sentiment seen", "yellow", None, None),
    ],
)
def test_stale_health(rule: str, color: str, since: str | None, key: str | None) -> None:
    got = stale_health(color, "adopting", since and D(since), D("2026-11-23"), R)
    assert (got.key if got else None) == key, rule


@pytest.mark.parametrize("lifecycle", ["will-churn", "churned"])
def test_no_stale_health_for_a_lost_customer(lifecycle: str) -> None:
    # handbook 002 "Will Churn": nobody refreshes a lost customer's health.
    assert stale_health("red", lifecycle, D("2026-09-24"), D("2026-11-23"), R) is None
    assert "the customer is lost" in (stale_health_withheld(lifecycle) or "")


@pytest.mark.parametrize("lifecycle", [None, "onboarding", "adopting"])
def test_stale_health_for_a_customer_not_lost(lifecycle: str | None) -> None:
    assert stale_health("red", lifecycle, D("2026-09-24"), D("2026-11-23"), R) is not None
    assert stale_health_withheld(lifecycle) is None


@pytest.mark.parametrize(
    ("severity", "opened", "today", "key"),
    [
        ("critical", "2026-11-22", "2026-11-23", "escalation-update:2026-11-23"),
        ("high", "2026-11-22", "2026-11-23", None),
        ("high", "2026-11-21", "2026-11-23", "escalation-update:2026-11-23"),
        ("high", "2026-11-20", "2026-11-23", "escalation-update:2026-11-22"),
        ("medium", "2026-11-17", "2026-11-23", None),
        ("medium", "2026-11-16", "2026-11-23", "escalation-update:2026-11-23"),
        ("low", "2026-01-01", "2026-11-23", None),
    ],
)
def test_escalation_updates(severity: str, opened: str, today: str, key: str | None) -> None:
    """SPEC 5.0: critical daily, high every 2 days, medium weekly, low none."""
    got = escalation_update(severity, D(opened), None, D(today), R)
    assert (got.key if got else None) == key
