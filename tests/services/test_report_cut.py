"""The summary issue at any portfolio size: each table cut to `rules.report.max_rows`
rows (the most important first) with one line counting the rest, and never longer than
GitLab's cap on an issue description (app/models/concerns/issuable.rb)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from gl_csm.config import Settings
from gl_csm.domain.cadence import within_months
from gl_csm.domain.history import HistoryRow
from gl_csm.domain.rules import rules_from_mapping
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.triage import report
from gl_csm.services.triage.report import (
    DESCRIPTION_CAP,
    ReportInput,
    find_report_issue,
    plan_report_issue,
    render_report,
    size_of,
)
from gl_csm.services.triage.report_cut import EVERY_ACCOUNT, LEFT_OUT, cut_accounts

TODAY = date(2026, 11, 23)
PREVIOUS = TODAY - timedelta(days=7)
SEVERITIES = ("low", "medium", "high", "critical")


def _portfolio(n: int) -> tuple[ReportInput, dict[str, list[HistoryRow]]]:
    """``n`` accounts: one in eight red and in triage (its update overdue, its health down
    since the last report), one in forty escalated, a third whose CI use fell over 120
    days, annual renewals over the year, 80 CSMs."""
    data, history = ReportInput(shards=["1/1"]), {}
    for i in range(n):
        slug = f"acct-{i:05d}"
        red, escalated, flat = i % 8 == 0, i % 40 == 0, i % 3 == 0
        data.accounts[slug] = {
            "slug": slug,
            "name": f"Account {i:05d} International Holdings",
            "csm": f"csm{i % 80:02d}",
            "segment": ("strategic", "growth", "scale", "commercial")[i % 4],
            "priority": 1 + i % 4,
            "health": "red" if red else "green",
            "score": 40.0 if red else 85.0,
            "lifecycle": "adopting",
            "arr": 10_000 + (i * 7919) % 900_000,
            "renewal_date": (TODAY + timedelta(days=1 + i % 365)).isoformat(),
            "triage": f"https://gl.example/t/-/issues/{i}" if red else None,
            "triage_since": (TODAY - timedelta(days=1 + i % 90)).isoformat() if red else None,
            "at_risk_due": (TODAY - timedelta(days=1 + i % 30)).isoformat() if red else None,
            "escalation": f"https://gl.example/e/-/issues/{i}" if escalated else None,
            "escalation_severity": SEVERITIES[i // 40 % 4] if escalated else None,
            "tracking": f"https://gl.example/a/-/issues/{i}",
            "measures": [{"name": "ci", "value": "0.1" if flat else "0.9"}],
        }
        history[slug] = [
            HistoryRow(TODAY - timedelta(days=120), slug, "green", 85, 1 + i % 4, "adopting",
                       (("ci", "0.5"),))
        ]  # fmt: skip
    return data, history


@pytest.fixture(scope="module")
def big() -> tuple[ReportInput, dict[str, list[HistoryRow]]]:
    return _portfolio(5000)


def _section(text: str, head: str) -> str:
    start = text.index(f"## {head}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _rows(section: str) -> list[list[str]]:
    """The body rows of the section's last table, as cells."""
    tables = re.findall(r"((?:^\|.*\|\n)+)", section, re.M)
    return [[c.strip() for c in line.strip("|").split("|")] for line in tables[-1].splitlines()[2:]]


def _dollars(text: str) -> int:
    return int(text.replace("$", "").replace(",", ""))


def _more(section: str) -> tuple[int, int]:
    found = re.search(r"…and ([\d,]+) more accounts \(ARR (\$[\d,]+)\)", section)
    assert found, section[-600:]
    return int(found[1].replace(",", "")), _dollars(found[2])


def test_five_thousand_accounts_stay_well_under_the_cap(big: tuple) -> None:
    data, history = big
    text = render_report(data, TODAY, rules_from_mapping({}), history=history, previous=PREVIOUS)
    assert size_of(text) < DESCRIPTION_CAP / 4
    assert "**Shortened:**" not in text
    for head in (
        "Accounts in triage",
        "Worse since the last report",
        "Product usage not risen",
        "Renewals in the next",
        "Overdue at-risk updates",
        "Open escalations",
    ):
        section = _section(text, head)
        assert len(_rows(section)) == 100, head
        assert "every account is in the dashboard and in the triage-*.json job artifacts" in (
            section
        )


def test_the_more_line_counts_every_account_left_out_and_its_arr(big: tuple) -> None:
    """Shown rows + the "and N more" line = the head's count and ARR in triage."""
    data, history = big
    text = render_report(data, TODAY, rules_from_mapping({}), history=history, previous=PREVIOUS)
    head = re.search(r"In triage: (\$[\d,]+) \(([\d,]+) accounts\)", text)
    assert head, text[:2000]
    section = _section(text, "Accounts in triage")
    rows = _rows(section)
    more, more_arr = _more(section)
    assert len(rows) + more == int(head[2].replace(",", "")) == 625
    assert sum(_dollars(r[3]) for r in rows) + more_arr == _dollars(head[1])
    # The most ARR first: no account left out has more ARR than the last one shown.
    shown = [_dollars(r[3]) for r in rows]
    assert shown == sorted(shown, reverse=True)
    in_triage = sorted(
        (a["arr"] for a in data.accounts.values() if a["triage"]), reverse=True
    )  # fmt: skip
    assert shown == in_triage[:100]
    assert "the table shows 100 accounts, the most ARR first" in section


def test_each_table_keeps_its_most_important_rows(big: tuple) -> None:
    data, history = big
    rules = rules_from_mapping({"report": {"max_rows": 10}})
    text = render_report(data, TODAY, rules, history=history, previous=PREVIOUS)
    overdue = _rows(_section(text, "Overdue at-risk updates"))
    longest = min(a["at_risk_due"] for a in data.accounts.values() if a["at_risk_due"])
    assert [r[0] for r in overdue] == [longest] * 10
    escalations = _rows(_section(text, "Open escalations"))
    assert {r[1] for r in escalations} == {"critical"}
    arr = [_dollars(r[4]) for r in escalations]
    assert arr == sorted(arr, reverse=True)
    section = _section(text, "Renewals in the next")
    renewals = _rows(section)
    assert renewals[0][0] == (TODAY + timedelta(days=1)).isoformat()
    window = [
        a for a in data.accounts.values()
        if within_months(date.fromisoformat(a["renewal_date"]), TODAY, 6)
    ]  # fmt: skip
    assert _more(section) == (
        len(window) - 10,
        sum(a["arr"] for a in window) - sum(_dollars(r[3]) for r in renewals),
    )
    usage = _section(text, "Product usage not risen")
    assert _more(usage)[0] + 10 == sum(1 for i in range(5000) if i % 3 == 0)
    # CSM tables stay by name; the ten kept are those with the most accounts in triage.
    per_csm = _rows(_section(text, "Health and priority per CSM"))
    names = [r[0] for r in per_csm]
    assert names == [f"csm{k:02d}" for k in range(0, 80, 8)]  # they hold every red one
    assert all(r[10] == r[1] for r in per_csm)
    assert "…and 70 more CSMs (4,375 accounts" in text
    balance = _section(text, "Book balance")
    assert len(_rows(balance)) == 10 and "more CSM books" in balance


def test_a_huge_max_rows_still_fits_and_says_so(big: tuple, monkeypatch) -> None:
    """The final guard: a team sets a huge limit and the text would pass the cap."""
    data, history = big
    rules = rules_from_mapping({"report": {"max_rows": 1_000_000}})
    whole = render_report(data, TODAY, rules, history=history, previous=PREVIOUS)
    cap = size_of(whole) // 3  # the whole report (every row) is three times this cap
    monkeypatch.setattr(report, "DESCRIPTION_CAP", cap)
    text = render_report(data, TODAY, rules, history=history, previous=PREVIOUS)
    assert size_of(text) <= cap
    said = re.search(r"\*\*Shortened:\*\* with `rules.report.max_rows` at 1000000 .* at most "
                     r"(\d+) rows here", text)  # fmt: skip
    assert said, text[:3000]
    limit = int(said[1])
    section = _section(text, "Renewals in the next")
    assert len(_rows(section)) == limit and _more(section)[0] > 0
    assert text.rstrip().endswith("-->")  # the hidden data (the last report's date) kept


def test_past_every_row_the_text_is_cut_at_a_line_and_says_so(big: tuple, monkeypatch) -> None:
    """The last resort: no table row left and still too long (a tiny cap here)."""
    data, history = big
    monkeypatch.setattr(report, "DESCRIPTION_CAP", 3000)
    text = render_report(data, TODAY, rules_from_mapping({}), history=history, previous=PREVIOUS)
    assert size_of(text) <= 3000
    assert "**Cut here:** the rest of this report would pass GitLab's limit" in text
    assert text.count("```") % 2 == 0
    assert text.endswith(
        '<!-- gl-csm-data {"compared_with":"2026-11-16","date":"2026-11-23"} -->\n'
    )


def test_long_lists_are_cut_too() -> None:
    data = ReportInput()
    data.failures = [f"acct-{i:04d}: GitLab answered 502" for i in range(250)]
    data.warnings = [f"unknown region {i}" for i in range(120)]
    data.accounts = {
        f"n{i:03d}": {"slug": f"n{i:03d}", "csm": "alice", "health": "green", "arr": None}
        for i in range(130)
    }
    text = render_report(data, TODAY, rules_from_mapping({"report": {"max_rows": 100}}))
    failed = _section(text, "Accounts that failed")
    assert failed.count("\n- ") == 100
    assert "…and 150 more failures: every one is in the triage-*.json job artifacts" in failed
    assert "…and 20 more warnings: every one is in the triage job logs." in text
    assert "n100" not in text
    assert "n099. …and 30 more accounts: every account is in the dashboard" in text


def test_a_small_portfolio_is_not_cut() -> None:
    data, history = _portfolio(40)
    text = render_report(data, TODAY, rules_from_mapping({}), history=history, previous=PREVIOUS)
    assert "…and" not in text and "**Shortened:**" not in text
    assert len(_rows(_section(text, "Accounts in triage"))) == 5


def test_max_rows_is_at_least_one() -> None:
    with pytest.raises(ConfigError, match="report.max_rows"):
        rules_from_mapping({"report": {"max_rows": 0}})


def test_a_table_with_no_row_left_says_so() -> None:
    rows = [{"slug": "a", "arr": 1000}, {"slug": "b", "arr": 2500, "lifecycle": "pre-sales"}]
    cut = cut_accounts(rows, 0, "the most ARR first")
    assert cut.rows == () and cut.total == 2
    assert str(cut.line) == f"2 accounts (ARR $1,000): {LEFT_OUT}; {EVERY_ACCOUNT}."
    one = cut_accounts(rows, 1, "the most ARR first")
    assert str(one.line) == (
        f"…and 1 more account (ARR $0): the table shows 1 account, the most ARR first; "
        f"{EVERY_ACCOUNT}."
    )
    assert cut_accounts(rows, 2, "x").line == ""


def test_the_summary_issue_update_never_fails_on_its_size(
    gateway: Gateway, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the sandbox, which refuses a description over the cap as GitLab does."""
    rules = rules_from_mapping({"report": {"max_rows": 1_000_000}})
    first = render_report(_portfolio(10)[0], TODAY, rules)
    assert plan_report_issue(gateway, settings, first, TODAY).apply(gateway).failures == []
    data, history = _portfolio(10_000)
    body = render_report(data, TODAY, rules, history=history, previous=PREVIOUS)
    assert DESCRIPTION_CAP / 2 < size_of(body) <= DESCRIPTION_CAP
    assert "**Shortened:**" in body
    outcome = plan_report_issue(gateway, settings, body, TODAY).apply(gateway)
    assert outcome.failures == []
    issue = find_report_issue(gateway, "customer-success/accounts")
    assert issue is not None and issue["description"].rstrip() == body.rstrip()
    # Without the guard the same update is refused: the summary would stay stale.
    monkeypatch.setattr(report, "DESCRIPTION_CAP", 10**12)
    whole = render_report(data, TODAY, rules, history=history, previous=PREVIOUS)
    assert size_of(whole) > DESCRIPTION_CAP
    refused = plan_report_issue(gateway, settings, whole, TODAY).apply(gateway)
    assert len(refused.failures) == 1 and "is too long" in refused.failures[0].message
