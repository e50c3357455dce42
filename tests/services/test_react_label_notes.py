"""`gl-csm react` says each effect once, and when a label a person added is taken back
or not acted on, tells that person why on the issue (SPEC 5 React, SPEC 4 will-churn).
Payload shape: doc/user/project/integrations/webhook_events.md ("Issue events":
``user.username``, ``changes.updated_at``)."""

from __future__ import annotations

from pathlib import Path

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.react import react
from tests.conftest import TODAY
from tests.services.onboarding_support import onboard_prospect
from tests.services.react_support import issue_hook
from tests.services.test_will_churn import D, _issues
from tests.services.triage_world import ACCOUNTS, World


def _label_notes(gw: Gateway, iid: int) -> list[str]:
    return [
        n["body"]
        for n in gw.notes(ACCOUNTS, iid)
        if any(k == "label-note" for k, _ in markers.markers_in(n.get("body")))
    ]


def test_an_early_will_churn_label_is_taken_back_in_one_line_and_the_person_told(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)  # GitLab Free: scoped labels are not exclusive
    world.add("initech", "Initech")
    world.run(D("2026-11-23"))
    tracking = _issues(world, "tracking")["initech"]
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="lifecycle::will-churn")
    fresh = world.person().issue(ACCOUNTS, tracking["iid"])
    assert fresh is not None
    payload = issue_hook(ACCOUNTS, fresh, added=["lifecycle::will-churn"])

    reaction, outcome = react(world.gateway, world.settings, world.today, payload, dry_run=True)
    lines = [c.to_text() for c in outcome.changes if "tracking issue of initech" in c.target]
    # One update of the tracking issue: no "remove lifecycle::adopting (the person's
    # label wins)" followed by "add lifecycle::adopting; remove lifecycle::will-churn".
    updates = [line for line in lines if "update-issue" in line]
    assert len(updates) == 1 and "remove lifecycle::will-churn" in updates[0], lines
    assert "lifecycle::adopting" not in updates[0]
    assert any("tell alice why lifecycle::will-churn is taken back" in line for line in lines)

    reaction, outcome = react(world.gateway, world.settings, world.today, payload)
    assert outcome.exit_code == 0, outcome.failures
    labels = world.gateway.issue(ACCOUNTS, tracking["iid"])["labels"]
    assert "lifecycle::adopting" in labels and "lifecycle::will-churn" not in labels
    (note,) = _label_notes(world.gateway, tracking["iid"])
    assert note.splitlines()[1].startswith("@alice `lifecycle::will-churn` is taken back")
    assert "every step of the account's will-churn checklist" in note

    before = world.gateway.stats.writes
    react(world.gateway, world.settings, world.today, payload)  # a repeated delivery
    assert world.gateway.stats.writes == before
    assert len(_label_notes(world.gateway, tracking["iid"])) == 1


def test_action_promote_before_payment_tells_the_person_why_once(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    onboard_prospect(gateway, settings, workdir)  # a prospect: no customer_since
    tracking = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:initrode")
    assert tracking is not None
    gateway.update_issue(ACCOUNTS, tracking["iid"], add_labels="action::promote")
    fresh = gateway.issue(ACCOUNTS, tracking["iid"])
    payload = issue_hook(ACCOUNTS, fresh, added=["action::promote"])

    reaction, outcome = react(gateway, settings, TODAY, payload)
    assert reaction.status == "ignored" and outcome.exit_code == 0
    assert "customer_since is not set" in reaction.reason
    assert "action::promote" in gateway.issue(ACCOUNTS, tracking["iid"])["labels"]  # stays
    (note,) = _label_notes(gateway, tracking["iid"])
    assert "@alice `action::promote` is not acted on yet: account initrode: customer_since" in note
    assert "The label stays" in note

    before = gateway.stats.writes
    again, outcome = react(gateway, settings, TODAY, payload)  # a repeated delivery
    assert gateway.stats.writes == before and outcome.changes == []
    assert len(_label_notes(gateway, tracking["iid"])) == 1
