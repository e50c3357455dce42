"""Portfolio figures shared by the summary issue and the dashboard (domain/portfolio)."""

from __future__ import annotations

from datetime import date

from gl_csm.domain.portfolio import days_in_triage, dollars, money, update_overdue

TODAY = date(2026, 12, 2)


def test_days_in_triage_count_from_the_triage_issue() -> None:
    row = {"triage": "https://gl.example/t/1", "triage_since": "2026-11-22"}
    assert days_in_triage(row, TODAY) == 10
    assert days_in_triage({**row, "triage": None}, TODAY) is None
    assert days_in_triage({**row, "triage_since": "not a date"}, TODAY) is None


def test_an_update_is_overdue_from_the_day_after_it_was_due() -> None:
    assert update_overdue({"at_risk_due": "2026-12-01"}, TODAY)
    assert not update_overdue({"at_risk_due": "2026-12-02"}, TODAY)
    assert not update_overdue({"at_risk_due": None}, TODAY)


def test_dollars_keep_pre_sales_apart_and_name_accounts_without_arr() -> None:
    rows = [
        {"slug": "a", "health": "green", "arr": 100, "renewal_date": "2027-03-02"},
        {
            "slug": "b",
            "health": "red",
            "arr": 50.5,
            "renewal_date": "2027-03-03",
            "triage": "t",
            "escalation": "e",
        },
        {"slug": "c", "health": "unknown", "arr": 7},
        {"slug": "d", "health": "yellow"},
        {"slug": "e", "health": None, "lifecycle": "pre-sales", "arr": 900},
        {"slug": "f", "health": None, "lifecycle": "pre-sales"},
        {"slug": "g", "health": "green", "arr": True},
    ]
    d = dollars(rows, TODAY)
    assert d.by_health == {"green": 100, "yellow": 0, "red": 50.5, "unknown": 7}
    assert d.renewing == {"green": 100, "yellow": 0, "red": 0, "unknown": 0}  # 90 days: 03-02
    assert (d.in_triage, d.triage_accounts, d.in_escalation) == (50.5, 1, 50.5)
    assert (d.pre_sales, d.pre_sales_accounts) == (900, 2)
    assert d.without_arr == ("d", "g")
    assert dollars([rows[5]], TODAY).pre_sales is None
    assert money(1250000) == "$1,250,000" and money(None) == "-"
