"""What the dashboard's pages say, built from hand-made triage rows: dates, units, dollars,
overdue updates, days in triage as the summary issue counts them, one page per CSM
spelling, and a legend and a table beside every chart."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from gl_csm.dashboard import svg
from gl_csm.dashboard.build import build_dashboard, page_names
from gl_csm.dashboard.measures import measure_value
from gl_csm.domain.history import HistoryRow, by_account
from gl_csm.domain.rules import DEFAULT_RULES
from gl_csm.services.triage.report import ReportInput, render_report

TODAY = date(2026, 12, 2)


class _Text(HTMLParser):
    """The text a reader sees (tags dropped, each element's text kept apart)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())


def _text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.parts


def _row(slug: str, **keys: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "slug": slug,
        "name": slug.title(),
        "csm": "alice",
        "segment": "strategic",
        "priority": 2,
        "health": "green",
        "score": 80.0,
        "lifecycle": "adopting",
        "arr": 100000,
        "renewal_date": "2027-01-15",
        "triage": None,
        "triage_since": None,
        "at_risk_due": None,
        "escalation": None,
        "escalation_severity": None,
        "tracking": f"https://gl.example/-/issues/{slug}",
        "measures": [],
    }
    base.update(keys)
    return base


ACCOUNTS = {
    "acme": _row(
        "acme",
        arr=1250000,
        measures=[
            {"name": "license_utilization", "color": "green", "value": "84"},
            {"name": "ci", "color": "yellow", "value": "0.15"},
            {"name": "meeting_cadence", "color": "red", "value": "91"},
            {"name": "persona_engagement", "color": "red", "value": "[]"},
            {"name": "success_plan", "color": "yellow", "value": "1"},
        ],
    ),
    "initech": _row(
        "initech",
        health="red",
        score=30.0,
        csm="Alice",
        arr=420000,
        renewal_date="2027-02-10",
        triage="https://gl.example/t/1",
        triage_since="2026-11-22",
        at_risk_due="2026-11-29",
        escalation="https://gl.example/e/1",
        escalation_severity="high",
    ),
    "tyrell": _row(
        "tyrell", health=None, score=None, priority=None, lifecycle="pre-sales", arr=55000
    ),
}
# Initech turned red long before its triage issue opened: the days in triage count
# from the triage issue, not from the health's since-date.
HISTORY = by_account(
    [
        HistoryRow(date(2026, 10, 1), "initech", "red", 30, 2, "adopting"),
        HistoryRow(TODAY, "acme", "green", 80, 2, "adopting"),
    ]
)


def _build(tmp_path: Path, history: Any = HISTORY) -> Path:
    out = tmp_path / "site"
    build_dashboard(out, ACCOUNTS, history, TODAY, DEFAULT_RULES)
    return out


def test_a_one_day_history_prints_its_date_once(tmp_path: Path) -> None:
    site = _build(tmp_path)
    acme = _text(site / "account/acme.html")
    assert "2026-12-022026-12-02" not in "".join(acme)
    chart = (site / "account/acme.html").read_text().split("<svg", 1)[1].split("</svg>", 1)[0]
    assert chart.count(">2026-12-02</text>") == 1
    two = svg.lines("x", ["2026-11-01", "2026-12-02"], {"green": [1, 2]})
    assert ">2026-11-01</text>" in two and ">2026-12-02</text>" in two


def test_values_with_units_and_dollars(tmp_path: Path) -> None:
    site = _build(tmp_path)
    acme = " | ".join(_text(site / "account/acme.html"))
    assert "84% of licensed seats active" in acme
    assert "15% of users" in acme
    assert "91 days since the last call" in acme
    assert "no key persona in the last 90 days" in acme
    assert "1 objective" in acme and "[]" not in acme
    assert "ARR $1,250,000" in acme and "score 80.0 of 100" in acme
    overview = " | ".join(_text(site / "index.html"))
    assert "$1,250,000" in overview and "1250000" not in overview
    assert measure_value("support", "16") == "16 tickets in the last 30 days"
    assert measure_value("user_engagement", None) == "no data"
    assert measure_value("something_new", "7") == "7"


def test_dollars_by_health_on_the_overview_and_the_book(tmp_path: Path) -> None:
    site = _build(tmp_path)
    overview = " | ".join(_text(site / "index.html"))
    assert (
        "all customers | $1,250,000 (1) | $0 (0) | $420,000 (1) | $0 (0) | $1,670,000 (2)"
        in overview
    )
    assert "renewing in the next 90 days (to 2027-03-02) | $1,250,000 (1)" in overview
    assert "In triage: $420,000 (1 account). In an open escalation: $420,000 (1 account)." in (
        overview
    )
    assert "Pre-sales accounts are not counted" in overview and "$55,000" in overview


def test_overdue_updates_and_days_in_triage_as_in_the_report(tmp_path: Path) -> None:
    site = _build(tmp_path)
    html = (site / "index.html").read_text()
    triage = html.split("<h2>Accounts in triage</h2>", 1)[1].split("</section>", 1)[0]
    assert '<td class="overdue">overdue since 2026-11-29</td>' in triage
    assert "10 days (since 2026-11-22)" in triage
    report = render_report(ReportInput(accounts=ACCOUNTS), TODAY, DEFAULT_RULES, history=HISTORY)
    assert "| $420,000 | 10 |" in report  # the report's "days in triage" column
    assert "**overdue since 2026-11-29**" in report
    page = " | ".join(_text(site / "account/initech.html"))
    assert "In triage for 10 days (since 2026-11-22)" in page
    assert "overdue since 2026-11-29" in page


def test_alice_and_alice_get_two_pages(tmp_path: Path) -> None:
    site = _build(tmp_path)
    pages = sorted(p.name for p in (site / "csm").iterdir())
    assert len(pages) == 2
    assert len({p.casefold() for p in pages}) == 2  # distinct on a case-insensitive disk
    names = page_names(["alice", "Alice", "Alice Smith", "alice-smith"])
    assert names["alice"] == "alice" and names["alice-smith"] == "alice-smith"
    assert re.fullmatch(r"alice-[0-9a-f]{8}", names["Alice"])
    assert len({n.casefold() for n in names.values()}) == 4
    lower = " | ".join(_text(site / "csm" / f"{names['alice']}.html"))
    upper = " | ".join(_text(site / "csm" / f"{names['Alice']}.html"))
    assert "Book of alice" in lower and "Acme" in lower and "Initech" not in lower
    assert "Book of Alice" in upper and "Initech" in upper and "Acme" not in upper


def test_every_chart_has_a_legend_and_a_table(tmp_path: Path) -> None:
    history = by_account(
        [
            *HISTORY["initech"],
            HistoryRow(date(2026, 11, 20), "acme", "yellow", 60, 2, "adopting"),
            *HISTORY["acme"],
        ]
    )
    site = _build(tmp_path, history)
    html = (site / "index.html").read_text()
    sections = [s for s in html.split("<section>") if "<svg" in s]
    assert len(sections) == 2
    for section in sections:
        after = section.split("</svg>", 1)[1]
        assert '<p class="legend">' in after and "<table>" in after
    assert "no health (pre-sales, or no scorecard data)" in sections[0]
    # The per-CSM chart counts the pre-sales account the table beside it counts.
    assert re.search(r'class="bar unknown"[^>]*><title>alice: 1 unknown', sections[0])
    weekly = sections[1].split("</svg>", 1)[1]
    assert "<td>2026-12-02</td>" in weekly and "Pre-sales accounts have no health" in weekly
