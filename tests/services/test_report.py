"""`gl-csm report`: one portfolio report from the triage shards' JSON results."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.domain.rules import DEFAULT_RULES
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.triage.report import (
    ReportInput,
    failure_words,
    load_results,
    plan_report_issue,
    render_report,
)

TODAY = date(2026, 11, 23)


def _row(slug: str, **keys: object) -> dict:
    base = {
        "slug": slug,
        "name": slug.title(),
        "csm": "alice",
        "segment": "strategic",
        "priority": 2,
        "health": "green",
        "renewal_date": "2027-10-31",
        "arr": 100000,
        "triage": None,
        "at_risk_due": None,
        "escalation": None,
        "escalation_severity": None,
        "tracking": f"https://gl.example/-/issues/{slug}",
    }
    base.update(keys)
    return base


def _write(tmp: Path, name: str, rows: list[dict], **extra: object) -> Path:
    path = tmp / name
    path.write_text(json.dumps({"changes": [], "accounts": rows, **extra}))
    return path


def test_report_merges_shards(tmp_path: Path) -> None:
    a = _write(
        tmp_path,
        "1.json",
        [
            _row("acme", priority=1, renewal_date="2027-02-01"),
            _row(
                "initech",
                priority=1,
                health="red",
                triage="https://gl.example/t/1",
                at_risk_due="2026-11-20",
                escalation="https://gl.example/e/1",
                escalation_severity="high",
            ),
        ],
        shard="1/2",
    )
    b = _write(
        tmp_path,
        "2.json",
        [_row("globex"), _row("hooli", csm="erin", segment="growth", priority=1)],
        shard="2/2",
        errors=[{"account": "broken", "message": "bad file"}],
    )
    data = load_results([a, b])
    text = render_report(data, TODAY, DEFAULT_RULES)
    assert "4 accounts from shards 1/2, 2/2" in text
    assert "| alice | 3 | 2 | 1 |" in text
    assert "| alice | strategic | 3 | 2 | 67% | 25-45% | WARN |" in text
    assert "| erin | growth | 1 | 1 | 100% | at most 20% | WARN |" in text
    renewals = text.split("## Renewals")[1].split("##")[0]
    assert "Acme" in renewals and "Globex" not in renewals
    overdue = text.split("## Overdue")[1].split("##")[0]
    assert "2026-11-20" in overdue and "Initech" in overdue
    assert "[escalation issue](https://gl.example/e/1)" in text
    assert "broken: bad file" in text


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "no such file"),
        ("", "empty: the shard wrote no result"),
        ('{"changes": [], "accou', "not JSON"),
        ("[]", "not the JSON output of `gl-csm triage --format json`"),
    ],
    ids=["missing", "empty", "cut short", "not a triage output"],
)
def test_a_bad_shard_is_named_and_the_others_still_report(
    tmp_path: Path, content: str | None, why: str
) -> None:
    good = _write(tmp_path, "triage-1.json", [_row("acme")], shard="1/2")
    bad = tmp_path / "triage-2.json"
    if content is not None:
        bad.write_text(content)
    data = load_results([good, bad], expected=2)
    assert [f.shard for f in data.failed_shards] == [f"shard 2/2 ({bad})"]
    assert why in data.failed_shards[0].why
    text = render_report(data, TODAY, DEFAULT_RULES)
    assert "1 account from shard 1/2" in text
    section = text.split("## Shards missing from this report")[1].split("\n## ")[0]
    assert f"shard 2/2 ({bad}): " in section and why.replace("`", "") in section.replace("`", "")


def test_a_shard_with_no_file_at_all_is_named(tmp_path: Path) -> None:
    """CI: `--input triage-*.json` lists only the files that arrived; --shards says how
    many ran."""
    good = _write(tmp_path, "triage-1.json", [_row("acme")], shard="1/3")
    other = _write(tmp_path, "triage-3.json", [_row("globex")], shard="3/3")
    data = load_results([good, other], expected=3)
    assert [f.shard for f in data.failed_shards] == ["shard 2/3"]
    assert "no result file" in data.failed_shards[0].why
    assert load_results([good, other]).failed_shards == []  # without --shards: unknown


def test_every_shard_good_has_no_missing_section(tmp_path: Path) -> None:
    good = _write(tmp_path, "triage-1.json", [_row("acme")], shard="1/1")
    data = load_results([good], expected=1)
    assert data.failed_shards == []
    assert "Shards missing" not in render_report(data, TODAY, DEFAULT_RULES)


def test_a_bad_date_names_the_file_and_the_account(tmp_path: Path) -> None:
    path = _write(tmp_path, "1.json", [_row("acme", renewal_date="next year")])
    data = load_results([path])
    assert [f.to_text() for f in data.failed_shards] == [
        f"{path}: account 'acme': renewal_date must be a date like 2027-01-31, got "
        f"'next year': the shard's accounts are not in this report"
    ]
    assert data.accounts == {}


def test_summary_issue_is_updated_in_place(
    gateway: Gateway, settings: Settings, tmp_path: Path
) -> None:
    data = load_results([_write(tmp_path, "1.json", [_row("acme")])])
    body = render_report(data, TODAY, DEFAULT_RULES)
    plan_report_issue(gateway, settings, body, TODAY).apply(gateway)
    assert plan_report_issue(gateway, settings, body, TODAY).changes == []
    rows = [_row("globex", renewal_date="2027-01-15")]
    other = render_report(load_results([_write(tmp_path, "2.json", rows)]), TODAY, DEFAULT_RULES)
    plan = plan_report_issue(gateway, settings, other, TODAY)
    assert [c.action for c in plan.changes] == ["update-issue"]
    plan.apply(gateway)
    found = [
        i
        for i in gateway.issues("customer-success/accounts", state="all")
        if "gl-csm:report:portfolio" in i["description"]
    ]
    assert len(found) == 1 and "Globex" in found[0]["description"]


def test_summary_shows_charts_triage_table_and_worse_accounts() -> None:
    """Mermaid charts (health per CSM, 12 weeks from the history,
    renewals by month and health), accounts in triage with days and trend, accounts
    worse since the last report, and a priority x health table instead of counts."""
    from gl_csm.domain.history import HistoryRow, by_account
    from gl_csm.services.triage.report import ReportInput

    def h(day: str, slug: str, health: str, score: int) -> HistoryRow:
        return HistoryRow(date.fromisoformat(day), slug, health, score, 2, "adopting")

    history = by_account(
        [
            h("2026-09-01", "acme", "green", 80),
            h("2026-09-01", "initech", "green", 70),
            h("2026-11-10", "initech", "red", 30),
            h("2026-09-01", "hooli", "yellow", 60),
        ]
    )
    data = ReportInput(
        accounts={
            "acme": _row("acme", renewal_date="2026-12-15", score=80.2),
            "initech": _row(
                "initech",
                health="red",
                score=30.0,
                priority=1,
                csm="erin",
                renewal_date="2027-01-20",
                triage="https://gl.example/t/1",
                triage_since="2026-11-10",
                at_risk_due="2026-11-30",
            ),
            "hooli": _row("hooli", health="yellow", score=60.0),
        }
    )
    text = render_report(data, TODAY, DEFAULT_RULES, history=history, previous=date(2026, 11, 1))
    assert "Priority:" not in text
    assert "| P1 | 0 | 0 | 1 | 0 | 1 |" in text and "| P2 | 1 | 1 | 0 | 0 | 2 |" in text
    assert text.count("```mermaid") == 3
    assert 'x-axis ["alice", "erin"]' in text
    assert "bar [2, 1]\n    bar [1, 1]\n    bar [0, 1]" in text  # totals, red+yellow, red
    weeks = text.split("```mermaid")[2]
    assert "line [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1]" in weeks  # green: initech red since 11-10
    assert "line [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]" in weeks  # red
    months = '"2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"'
    assert f"x-axis [{months}]" in text
    assert "bar [0, 1, 1, 0, 0, 0, 0]" in text  # acme renews in December, initech in January
    row = "| [Initech](https://gl.example/-/issues/initech) | erin | red | $100,000 | 13 | "
    assert row + "score 70 → 30 in 30 days | 2026-11-30 |" in text
    worse = text.split("## Worse since the last report (2026-11-01)", 1)[1].split("##", 1)[0]
    assert "| erin | green | red | 70 | 30 |" in worse and "Hooli" not in worse
    first = render_report(data, TODAY, DEFAULT_RULES, history=history)
    assert "This is the first report" in first


def test_previous_report_date_carries_over_a_same_day_rerun() -> None:
    from gl_csm.services.triage.report import previous_report

    def issue(data: str) -> dict:
        return {"description": f"x\n<!-- gl-csm-data {data} -->"}

    assert previous_report(None, TODAY) is None
    assert previous_report(issue('{"date":"2026-11-16"}'), TODAY) == date(2026, 11, 16)
    same_day = issue('{"date":"2026-11-23","compared_with":"2026-11-16"}')
    assert previous_report(same_day, TODAY) == date(2026, 11, 16)


def _bars(block: str) -> list[list[int]]:
    return [json.loads(line.split("bar ", 1)[1]) for line in block.splitlines() if "bar [" in line]


def _charts(text: str) -> list[str]:
    return [b.split("```", 1)[0] for b in text.split("```mermaid")[1:]]


def _ticks(top: int) -> list[float]:
    """d3's ``scaleLinear().domain([0, top]).ticks()`` (ten ticks), which Mermaid's
    xychart uses for its value axis (chartBuilder/components/axis/linearAxis.ts)."""
    import math

    step = top / 10
    power = math.floor(math.log10(step))
    error = step / 10**power
    factor = (
        10
        if error >= math.sqrt(50)
        else 5
        if error >= math.sqrt(10)
        else 2
        if error >= math.sqrt(2)
        else 1
    )
    inc = factor * 10**power
    return [i * inc for i in range(int(top / inc + 1e-9) + 1)]


def _book() -> ReportInput:
    from gl_csm.services.triage.report import ReportInput

    return ReportInput(
        accounts={
            "acme": _row("acme", renewal_date="2026-12-15"),
            "initech": _row(
                "initech",
                health="red",
                priority=1,
                arr=250000,
                renewal_date="2027-01-20",
                triage="https://gl.example/t/1",
                triage_since="2026-11-10",
                at_risk_due="2026-11-20",
                escalation="https://gl.example/e/1",
                escalation_severity="high",
            ),
            "hooli": _row("hooli", health="yellow", csm="erin", arr=1250000),
            "nodata": _row("nodata", health="unknown", csm="erin", arr=30000),
            "prospect": _row(
                "prospect", health=None, priority=None, lifecycle="pre-sales", arr=40000
            ),
        }
    )


def test_charts_draw_what_the_table_beside_them_counts() -> None:
    """Stacked bars: every account of the table beside the chart is in the bars (those
    without a health, pre-sales included, in grey), a zero draws nothing (a last
    all-zero series in the background color covers Mermaid's strip under the zero
    line), the axis' ticks are whole numbers, and a legend sentence names the series."""
    text = render_report(_book(), TODAY, DEFAULT_RULES)
    per_csm = _charts(text)[0]
    assert 'x-axis ["alice", "erin"]' in per_csm
    every, health, worse, red, mask = _bars(per_csm)
    table = text.split("| CSM | accounts |", 1)[1].split("\n\n", 1)[0]
    assert "| alice | 3 | 1 | 1 | 0 | 0 | 1 | 0 | 1 | 1 | 1 | $350,000 |" in table
    assert "| erin | 2 | 0 | 2 | 0 | 0 | 0 | 1 | 0 | 1 | 0 | $1,280,000 |" in table
    assert every == [3, 2] and health == [2, 1] and worse == [1, 1] and red == [1, 0]
    assert mask == [0, 0]
    init = json.loads(per_csm.split("%%{init: ", 1)[1].split("}%%", 1)[0])["themeVariables"]
    palette = init["xyChart"]["plotColorPalette"].split(", ")
    assert palette[-1] == init["xyChart"]["backgroundColor"]  # the mask is the paper
    assert "red at the bottom, then yellow, green, and grey on top" in text
    for block in _charts(text):
        top = int(block.split(" 0 --> ", 1)[1].split()[0])
        assert all(t == int(t) for t in _ticks(top)), (top, _ticks(top))
    assert _ticks(3)[:3] == [0, 0.2, 0.4]  # what a top of 3 drew: "2.6 accounts"


def test_a_one_week_history_says_so_instead_of_an_empty_chart() -> None:
    from gl_csm.domain.history import HistoryRow, by_account

    history = by_account(
        [
            HistoryRow(TODAY, "acme", "green", 80, 2, "adopting"),
            HistoryRow(TODAY, "initech", "red", 20, 1, "adopting"),
        ]
    )
    text = render_report(_book(), TODAY, DEFAULT_RULES, history=history)
    weekly = text.split("## Portfolio health over the last 12 weeks", 1)[1].split("## ", 1)[0]
    assert "```mermaid" not in weekly
    assert "The history starts on 2026-11-23, so far one weekly point" in weekly
    assert "| 2026-11-23 | 1 | 0 | 1 | 0 | 2 |" in weekly
    assert "No history yet" not in weekly
    two = by_account(
        [*history["acme"], HistoryRow(date(2026, 11, 16), "hooli", "yellow", 60, 2, "adopting")]
    )
    lines = render_report(_book(), TODAY, DEFAULT_RULES, history=two)
    assert "line [0, 1]" in lines.split("## Portfolio health", 1)[1].split("## ", 1)[0]


def test_dollars_by_health_renewing_in_triage_and_in_escalation() -> None:
    text = render_report(_book(), TODAY, DEFAULT_RULES)
    money = text.split("## Revenue (ARR) by health", 1)[1].split("## ", 1)[0]
    assert (
        "| all customers | $100,000 (1) | $1,250,000 (1) | $250,000 (1) | $30,000 (1) "
        "| $1,630,000 (4) |" in money
    )
    assert (
        "| renewing in the next 90 days (to 2027-02-21) | $100,000 (1) | $0 (0) "
        "| $250,000 (1) | $0 (0) | $350,000 (2) |" in money
    )
    assert "In triage: $250,000 (1 account). In an open escalation: $250,000 (1 account)." in money
    assert "Pre-sales accounts are not counted above" in money and "$40,000" in money
    triage = text.split("## Accounts in triage", 1)[1].split("## ", 1)[0]
    assert "| $250,000 | 13 |" in triage and "**overdue since 2026-11-20**" in triage
    renewals = text.split("## Renewals in the next 6 months", 1)[1].split("## ", 1)[0]
    assert "| 2027-01 | 0 | 0 | 1 | 0 | 1 | $250,000 |" in renewals


def test_the_demo_report_shows_the_history_its_triage_committed(tmp_path: Path) -> None:
    """`gl-csm demo` runs triage (which commits today's history) then the report: the
    report shows that history, not "No history yet"."""
    import shutil

    from gl_csm.demo import run_demo

    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "accounts", tmp_path / "accounts")
    shutil.copy(root / "gl-csm.yml", tmp_path / "gl-csm.yml")
    result = run_demo(tmp_path / "gl-csm.yml", tmp_path / "demo", date(2026, 12, 2))
    text = result.report.read_text(encoding="utf-8")
    weekly = text.split("## Portfolio health over the last 12 weeks", 1)[1].split("## ", 1)[0]
    assert "No history yet" not in weekly
    assert "The history starts on 2026-12-02, so far one weekly point" in weekly
    assert "| 2026-12-02 |" in weekly


def test_the_dollars_never_go_to_a_public_accounts_project(
    gateway: Gateway, settings: Settings, tmp_path: Path
) -> None:
    """The summary issue carries ARR by health: a public accounts project is refused
    before anything is written (SPEC 1: ARR stays internal)."""
    from gl_csm.errors import ConfigError

    body = render_report(_book(), TODAY, DEFAULT_RULES)
    assert "## Revenue (ARR) by health" in body
    plan_report_issue(gateway, settings, body, TODAY)  # private: accepted
    gateway.update_project("customer-success/accounts", visibility="public")
    with pytest.raises(ConfigError, match="is public"):
        plan_report_issue(gateway, settings, body, TODAY)
    found = [
        i
        for i in gateway.issues("customer-success/accounts", state="all")
        if "gl-csm:report:portfolio" in (i.get("description") or "")
    ]
    assert found == []


def test_the_runs_warnings_reach_the_summary_issue(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "1.json",
        [_row("acme")],
        warnings=[
            "acme: the account has no `region` in the registry: the CSM director cannot be told"
        ],
    )
    data = load_results([path])
    text = render_report(data, TODAY, DEFAULT_RULES)
    assert "## Warnings" in text
    assert "the CSM director cannot be told" in text


def test_an_overdue_update_is_not_listed_as_next_due(tmp_path: Path) -> None:
    rows = [
        _row("initech", health="red", triage="https://gl.example/t/1", at_risk_due="2026-11-20"),
        _row("hooli", health="red", triage="https://gl.example/t/2", at_risk_due="2026-12-01"),
    ]
    text = render_report(load_results([_write(tmp_path, "1.json", rows)]), TODAY, DEFAULT_RULES)
    in_triage = text[: text.index("## Overdue at-risk updates")]
    assert "| **overdue since 2026-11-20** |" in in_triage
    assert "| 2026-12-01 |" in in_triage


def test_a_failed_write_reads_cause_first_in_the_summary_issue() -> None:
    """The summary issue's reader needs the cause and what to do first; the write the
    bot stopped at comes after, and the account is not named twice."""
    said = failure_words(
        "cyberdyne",
        "create-issue customer-success/account-triage triage issue of cyberdyne: account "
        "cyberdyne: team.csm 'alcie' is not a GitLab user; fix the username in "
        "accounts/cyberdyne.yml",
    )
    assert said == (
        "cyberdyne: team.csm 'alcie' is not a GitLab user; fix the username in "
        "accounts/cyberdyne.yml — the bot stopped at: create-issue "
        "customer-success/account-triage triage issue of cyberdyne"
    )
    # A failure found while planning (no write) is kept as the run printed it.
    assert failure_words("acme", "accounts/acme.yml: arr: expected a number") == (
        "acme: accounts/acme.yml: arr: expected a number"
    )


def test_time_to_value_medians_and_spread_per_segment() -> None:
    """SPEC 4.1, handbook 004: per segment, how many paying customers reached each
    milestone, the median days, the middle half and the fastest and slowest."""

    def ttv(engagement: int | None, first_value: int | None) -> dict:
        return {
            "Engagement": engagement,
            "Onboarding": None,
            "Infrastructure Ready": None,
            "First Value": first_value,
            "Outcome Achieved": None,
        }

    rows = [
        _row("a", time_to_value=ttv(5, 20)),
        _row("b", time_to_value=ttv(9, 40)),
        _row("c", time_to_value=ttv(13, None)),
        _row("d", segment="commercial", time_to_value=ttv(2, 30)),
        _row("e", segment="commercial", health=None, priority=None, time_to_value={}),
    ]
    text = render_report(ReportInput(accounts={r["slug"]: r for r in rows}), TODAY, DEFAULT_RULES)
    ttv_text = text.split("## Time to value (handbook 004)", 1)[1].split("## ", 1)[0]
    assert "| strategic | Engagement | 3 of 3 | 9 | 7–11 | 5–13 |" in ttv_text, ttv_text
    assert "| strategic | First Value | 2 of 3 | 30 | 25–35 | 20–40 |" in ttv_text, ttv_text
    assert "| strategic | Outcome Achieved | 0 of 3 | - | - | - |" in ttv_text, ttv_text
    # The pre-sales account (no time to value) is not a customer of the segment yet.
    assert "| commercial | Engagement | 1 of 1 | 2 | 2–2 | 2–2 |" in ttv_text, ttv_text


def test_every_renewal_the_table_lists_falls_in_a_month_of_the_chart() -> None:
    """SPEC 3 ``within_months``: the six-month window of 2026-11-23 runs to 2027-05-23,
    both ends included; a renewal on 2027-05-20 is in the list, so the month table and
    the bars reach May too (they used to stop at April)."""
    book = ReportInput(accounts={"late": _row("late", renewal_date="2027-05-20")})
    text = render_report(book, TODAY, DEFAULT_RULES)
    assert "| 2027-05-20 |" in text
    assert "| 2027-05 | 1 | 0 | 0 | 0 | 1 | $100,000 |" in text
    renewals = _charts(text)[1]
    assert '"2027-05"]' in renewals and _bars(renewals)[0][-1] == 1
    assert "The window runs to 2027-05-23" in text
