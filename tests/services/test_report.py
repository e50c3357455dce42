"""`gl-csm report`: one portfolio report from the triage shards' JSON results."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.domain.rules import DEFAULT_RULES
from gl_csm.errors import UsageError
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


def test_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[]")
    with pytest.raises(UsageError, match="triage --format json"):
        load_results([path])


def test_a_bad_date_names_the_file_and_the_account(tmp_path: Path) -> None:
    path = _write(tmp_path, "1.json", [_row("acme", renewal_date="next year")])
    with pytest.raises(UsageError, match=r"1\.json: account 'acme': renewal_date .*'next year'"):
        load_results([path])


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
