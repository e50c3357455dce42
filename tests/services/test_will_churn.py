"""The will-churn checklist (SPEC 4 Lifecycle, handbook 002 "Will Churn"): opened once,
assigned to the CSM, `lifecycle::will-churn` only after the last box, the card lists
the steps left, reruns write nothing; by registry, by label (react) or by command."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.services.moves.will_churn import STEPS, plan_will_churn
from gl_csm.services.react import plan_react
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, RED, TRIAGE, World

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _issues(world: World, kind: str) -> dict[str, dict]:
    return markers.index_by_marker(world.issues(ACCOUNTS), kind)


def _tick(world: World, issue: dict, *steps: str) -> None:
    body = issue["description"]
    for step in steps:
        assert f"- [ ] {step}" in body, step
        body = body.replace(f"- [ ] {step}", f"- [x] {step}")
    world.person().update_issue(ACCOUNTS, issue["iid"], description=body)


def test_registry_will_churn_opens_the_checklist_and_the_label_waits_for_the_last_box(
    world: World,
) -> None:
    world.add("initech", "Initech", lifecycle="will-churn")
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    checklist = _issues(world, "will-churn")["initech"]
    assert [a["username"] for a in checklist["assignees"]] == ["alice"]
    for step in STEPS:
        assert f"- [ ] {step}" in checklist["description"]
    # The people who act on a step are told (handbook 002 "Will Churn"): the regional
    # CSM manager agrees (step 2), the AE marks the opportunity (step 3).
    lines = checklist["description"].splitlines()
    assert f"- [ ] {STEPS[1]} — @noram-mgr" in lines
    assert f"- [ ] {STEPS[2]} — @carol" in lines
    tracking = _issues(world, "tracking")["initech"]
    assert f"[Initech #{tracking['iid']}]" in checklist["description"]
    assert "lifecycle::will-churn" not in tracking["labels"]
    assert "lifecycle::adopting" in tracking["labels"]
    card = tracking["description"]
    assert "Steps left:" in card and all(step in card for step in STEPS)
    assert "Will-churn checklist: [Will churn: Initech" in card
    _, _, stats = world.run(D("2026-11-23"))
    assert stats.writes == 0

    # Three boxes: still not will-churn; the card lists the one left.
    _tick(world, checklist, *STEPS[:3])
    world.run(D("2026-11-24"))
    tracking = _issues(world, "tracking")["initech"]
    assert "lifecycle::will-churn" not in tracking["labels"]
    assert STEPS[3] in tracking["description"] and STEPS[0] not in tracking["description"]

    # The last box: the label is set, once.
    _tick(world, _issues(world, "will-churn")["initech"], STEPS[3])
    world.run(D("2026-11-25"))
    tracking = _issues(world, "tracking")["initech"]
    assert "lifecycle::will-churn" in tracking["labels"]
    assert "lifecycle::adopting" not in tracking["labels"]
    assert "Every step of the will-churn checklist is done" in tracking["description"]
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0
    assert len([i for i in world.issues(ACCOUNTS) if "Will churn" in i["title"]]) == 1


def _react(world: World, payload: dict[str, Any]) -> Any:
    reaction = plan_react(world.gateway, world.settings, world.today, payload)
    return reaction, reaction.plan.apply(world.gateway)


def test_a_person_adding_the_label_opens_the_checklist_and_the_label_waits(
    world: World,
) -> None:
    world.add("initech", "Initech")
    world.run(D("2026-11-23"))
    tracking = _issues(world, "tracking")["initech"]
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="lifecycle::will-churn")
    tracking = _issues(world, "tracking")["initech"]
    payload = issue_hook(ACCOUNTS, tracking, added=["lifecycle::will-churn"])
    reaction, outcome = _react(world, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0, reaction.line
    checklist = _issues(world, "will-churn")["initech"]
    assert "a person added the `lifecycle::will-churn` label" in checklist["description"]
    tracking = _issues(world, "tracking")["initech"]
    # Taken back until every box is ticked (SPEC 4); the checklist stays the request.
    assert "lifecycle::will-churn" not in tracking["labels"]
    _tick(world, checklist, *STEPS)
    world.run(D("2026-11-24"))
    assert "lifecycle::will-churn" in _issues(world, "tracking")["initech"]["labels"]


def test_the_command_opens_it_once(world: World) -> None:
    world.add("initech", "Initech")
    world.run(D("2026-11-23"))
    plan = plan_will_churn(world.gateway, world.settings, "initech", D("2026-11-23"))
    assert [c.action for c in plan.changes] == ["create-issue"]
    assert plan.apply(world.gateway).exit_code == 0
    checklist = _issues(world, "will-churn")["initech"]
    assert "`gl-csm will-churn` was run" in checklist["description"]
    # Retitled and closed by a person: still found by its marker, nothing written.
    world.person().update_issue(ACCOUNTS, checklist["iid"], title="x", state_event="close")
    before = world.gateway.stats.writes
    again = plan_will_churn(world.gateway, world.settings, "initech", D("2026-11-23"))
    assert again.changes == [] and "exists (closed; 4 of 4 steps left)" in again.notes[0]
    assert again.apply(world.gateway).changes == [] and world.gateway.stats.writes == before
    # The scheduled run sees the closed checklist with steps left: no label.
    world.run(D("2026-11-24"))
    assert "lifecycle::will-churn" not in _issues(world, "tracking")["initech"]["labels"]


def test_a_customer_concluded_lost_gets_no_new_triage_issue_unless_a_person_asks(
    world: World,
) -> None:
    """Handbook 002 "Will Churn": once the customer is concluded lost (the checklist
    done, or churned) the bot does not put the account back into triage for its red
    health; `triage::needed` on the tracking issue still asks for one (README Triage)."""
    world.add("initech", "Initech", lifecycle="churned", **RED)
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    assert "initech" not in markers.index_by_marker(world.issues(TRIAGE), "triage")
    _, _, stats = world.run(D("2026-11-23"))
    assert stats.writes == 0

    tracking = _issues(world, "tracking")["initech"]
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="triage::needed")
    world.run(D("2026-11-24"))
    assert "initech" in markers.index_by_marker(world.issues(TRIAGE), "triage")
