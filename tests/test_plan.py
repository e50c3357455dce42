"""Plan then apply (ARCHITECTURE rule 2): order, results, failure isolation, output."""

from __future__ import annotations

import json

from gl_csm.errors import GitLabError
from gl_csm.plan import Plan, dry_run_outcome


def _boom(_gw: object, _r: dict) -> None:
    raise GitLabError("GitLab answered 500")


def test_apply_runs_in_order_and_passes_results() -> None:
    seen: list[object] = []
    plan = Plan()
    plan.add(
        "create-project",
        "g/acme",
        "from template",
        lambda gw, r: {"id": 7},
        key="project",
        account="acme",
    )
    plan.add(
        "commit", "g/acme", "3 files", lambda gw, r: seen.append(r["project"]["id"]), account="acme"
    )
    outcome = plan.apply(gateway=None)
    assert seen == [7]
    assert [c.action for c in outcome.changes] == ["create-project", "commit"]
    assert outcome.exit_code == 0


def test_failure_skips_rest_of_account_but_not_others() -> None:
    ran: list[str] = []
    plan = Plan()
    plan.add("a1", "t", "d", _boom, account="a")
    plan.add("a2", "t", "d", lambda gw, r: ran.append("a2"), account="a")
    plan.add("b1", "t", "d", lambda gw, r: ran.append("b1"), account="b")
    outcome = plan.apply(None)
    assert ran == ["b1"]
    assert outcome.exit_code == 1
    assert outcome.failures[0].account == "a" and "500" in outcome.failures[0].message


def test_planning_failure_blocks_that_account_only() -> None:
    plan = Plan()
    plan.fail("a", "accounts/a.yml: key 'arr': expected a number")
    plan.add("a1", "t", "d", lambda gw, r: None, account="a")
    plan.add("b1", "t", "d", lambda gw, r: None, account="b")
    outcome = plan.apply(None)
    assert [c.action for c in outcome.changes] == ["b1"]
    assert outcome.exit_code == 1


def test_shared_change_failure_stops_the_run() -> None:
    ran: list[str] = []
    plan = Plan()
    plan.add("label", "g", "d", _boom)
    plan.add("b1", "t", "d", lambda gw, r: ran.append("b1"), account="b")
    assert plan.apply(None).exit_code == 1 and ran == []


def test_json_shape_of_spec_7() -> None:
    plan = Plan()
    plan.add("create-issue", "p", "Welcome", lambda gw, r: None, customer_visible=True)
    doc = json.loads(
        dry_run_outcome(plan).render("json", dry_run=True, stats={"reads": 2, "writes": 0})
    )
    assert doc == {
        "changes": [
            {"action": "create-issue", "target": "p", "detail": "Welcome [customer-visible]"}
        ],
        "stats": {"reads": 2, "writes": 0},
    }


def test_text_dry_run_says_nothing_written() -> None:
    text = dry_run_outcome(Plan()).render("text", dry_run=True)
    assert "nothing written" in text and "no changes" in text


def test_unexpected_error_in_one_account_is_named_and_others_run() -> None:
    """A bug hit by one account of a large run must not stop the rest."""
    ran: list[str] = []

    def bug(_gw: object, _r: dict) -> None:
        raise KeyError("created_at")

    plan = Plan()
    plan.add("a1", "t", "d", bug, account="a")
    plan.add("b1", "t", "d", lambda gw, r: ran.append("b1"), account="b")
    outcome = plan.apply(None)
    assert ran == ["b1"] and outcome.exit_code == 1
    assert "unexpected error" in outcome.failures[0].message
    assert "KeyError" in outcome.failures[0].message
