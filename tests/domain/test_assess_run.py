"""`run_assess` and its renderers over the sample registry (SPEC 7 `gl-csm assess`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gl_csm.domain.health import LabelSignals
from gl_csm.domain.rules import DEFAULT_RULES, rules_from_mapping
from gl_csm.errors import UsageError
from gl_csm.services.assess import (
    book_balance,
    render_book_balance,
    render_json,
    render_text,
    run_assess,
)

SAMPLES = Path(__file__).resolve().parents[2] / "accounts"
TODAY = date(2026, 11, 23)


def test_json_is_a_list_with_the_spec7_keys() -> None:
    run = run_assess(SAMPLES, DEFAULT_RULES, TODAY)
    items = json.loads(render_json(run))
    assert len(items) == len(run.assessments) >= 10
    assert all(
        set(i)
        == {
            "slug",
            "priority",
            "base_priority",
            "priority_reasons",
            "health",
            "score",
            "groups",
            "measures",
            "overrides",
            "needs_triage",
            "lifecycle",
        }
        for i in items
    )
    by_slug = {i["slug"]: i for i in items}
    assert by_slug["tyrell"]["priority"] is None and by_slug["tyrell"]["health"] is None
    assert by_slug["initech"]["health"] == "red" and by_slug["initech"]["needs_triage"]
    assert by_slug["pied-piper"]["priority"] == 4
    assert by_slug["acme-corp-labs"]["priority"] == 3
    assert by_slug["wayne-enterprises"]["lifecycle"] == "onboarding"


def test_requested_accounts_in_the_order_asked() -> None:
    run = run_assess(SAMPLES, DEFAULT_RULES, TODAY, ["initech", "acme-corp"])
    assert [a.slug for a in run.assessments] == ["initech", "acme-corp"]


def test_unknown_account_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        run_assess(SAMPLES, DEFAULT_RULES, TODAY, ["no-such-account"])


def test_label_signals_are_passed_per_account() -> None:
    run = run_assess(
        SAMPLES,
        DEFAULT_RULES,
        TODAY,
        ["soylent"],
        signals={"soylent": LabelSignals(triage_needed=True)},
    )
    (a,) = run.assessments
    assert a.needs_triage and a.priority.priority == 1


def test_problems_are_returned_not_raised(tmp_path: Path) -> None:
    (tmp_path / "ok.yml").write_text("name: Ok\nsegment: scale\ncustomer_since: 2025-01-01\n")
    (tmp_path / "bad.yml").write_text("name: Bad\nsegment: galaxy\n")
    run = run_assess(tmp_path, DEFAULT_RULES, TODAY)
    assert [a.slug for a in run.assessments] == ["ok"]
    assert len(run.problems) == 1 and "key 'segment'" in str(run.problems[0])


def test_text_is_a_readable_table() -> None:
    text = render_text(run_assess(SAMPLES, DEFAULT_RULES, TODAY))
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["ACCOUNT", "SEGMENT", "PRIO", "HEALTH", "SCORE"]
    assert any(line.startswith("initech ") and " red " in line for line in lines)
    assert "Health signals:" in text
    assert "initech: red (score 13.5); override: red CSM sentiment;" in text


def test_text_with_no_accounts(tmp_path: Path) -> None:
    assert render_text(run_assess(tmp_path, DEFAULT_RULES, TODAY)) == "no accounts\n"


def test_book_balance_targets() -> None:
    run = run_assess(SAMPLES, DEFAULT_RULES, TODAY)
    rows = {(b.csm, b.segment): b for b in book_balance(run)}
    alice = rows[("alice", "strategic")]
    # acme-corp, globex, initech P1; acme-corp-labs P3 (tyrell is pre-sales).
    assert (alice.accounts, alice.p1, alice.status, alice.target) == (4, 3, "warn", "25-45%")
    assert rows[("bob", "commercial")].status == "info"
    assert rows[("erin", "growth")].target == "<= 20%"
    # Digital accounts are not CSM-assigned and count in no book.
    assert all(b.csm for b in rows.values())
    relaxed = rules_from_mapping({"book_balance": {"strategic_p1_max_pct": 80}})
    assert {(b.csm, b.segment): b for b in book_balance(run, relaxed)}[
        ("alice", "strategic")
    ].status == "ok"


def test_book_balance_renderers() -> None:
    balances = book_balance(run_assess(SAMPLES, DEFAULT_RULES, TODAY))
    text = render_book_balance(balances, "text")
    assert text.splitlines()[0].split() == [
        "CSM",
        "SEGMENT",
        "ACCOUNTS",
        "P1",
        "P1",
        "%",
        "TARGET",
        "STATUS",
    ]
    assert "WARN" in text
    items = json.loads(render_book_balance(balances, "json"))
    assert items[0]["csm"] == "alice" and {"p1_pct", "target", "status"} <= set(items[0])


def test_text_lists_a_green_accounts_red_measure() -> None:
    """A green score can hide a red measure (pied-piper is green at 86.4 with DevSecOps
    at 5% of users): the CSM reads it in the health signals, not only yellow and red
    accounts' measures; a green account's yellow measures would only crowd the list."""
    run = run_assess(SAMPLES, DEFAULT_RULES, TODAY, ["pied-piper", "hooli"])
    pied, hooli = run.assessments
    assert pied.health is not None and pied.health.color == "green"
    assert [m.name for m in pied.health.measures if m.color == "red"] == ["devsecops"]
    text = render_text(run)
    assert "pied-piper: green (score 86.4); DevSecOps use red (5% of users)" in text
    assert hooli.health is not None and hooli.health.color == "green"
    assert not any(m.color == "red" for m in hooli.health.measures)
    assert "hooli:" not in text
