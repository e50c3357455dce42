"""`gl-csm report`: one portfolio report from the triage shards' JSON results."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.domain.rules import DEFAULT_RULES
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.triage.report import load_results, plan_report_issue, render_report

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
    assert "4 accounts from shard(s) 1/2, 2/2" in text
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
    assert "1 accounts from shard(s) 1/2" in text
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
    """Issue 12 item 3: Mermaid charts (health per CSM, 12 weeks from the history,
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
    assert 'x-axis ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04"]' in text
    assert "bar [0, 1, 1, 0, 0, 0]" in text  # acme renews in December, initech in January
    row = "| [Initech](https://gl.example/-/issues/initech) | erin | red | 13 | "
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
