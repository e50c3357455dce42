"""``action::promote`` acts only for a person with at least
``rules.promote_min_access_level`` (default Maintainer) on the accounts project: a
Reporter's label is taken back with a note, both by `react` and by the scheduled
triage's catch-up. Who added the label is read from GitLab's resource label events
(doc/api/resource_label_events.md), never from the payload; access levels:
doc/user/permissions.md."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.services.react import react
from gl_csm.services.triage.run import plan_triage
from tests.conftest import TODAY
from tests.services.onboarding_support import onboard_prospect
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS

POST_SALES = "account-management/customers/initrode"


def _labelled_by(
    sandbox: Sandbox, gateway: Gateway, settings: Settings, workdir: Path, level: int
) -> dict:
    """initrode, paid, with action::promote added by a person of ``level`` access."""
    registry = onboard_prospect(gateway, settings, workdir)
    registry.write_text(
        registry.read_text() + f"customer_since: {(TODAY - timedelta(days=3)).isoformat()}\n"
    )
    sandbox.seed(members=[(ACCOUNTS, "rita", level)])
    tracking = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:initrode")
    assert tracking is not None
    gateway.update_issue(ACCOUNTS, tracking["iid"], add_labels="action::promote")
    # The sandbox answers every token as the bot: the event is made a person's.
    rita = sandbox.store.user_by_username("rita")
    assert rita is not None
    issue = sandbox.store.project(ACCOUNTS)["issues"][tracking["iid"]]
    issue["label_events"][-1]["user_id"] = rita["id"]
    fresh = gateway.issue(ACCOUNTS, tracking["iid"])
    assert fresh is not None
    return fresh


def test_a_reporters_label_is_taken_back_with_a_note(
    sandbox: Sandbox, gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    tracking = _labelled_by(sandbox, gateway, settings, workdir, 20)
    payload = issue_hook(ACCOUNTS, tracking, added=["action::promote"])
    reaction, outcome = react(gateway, settings, TODAY, payload)
    assert outcome.exit_code == 0, outcome.failures
    assert gateway.project(POST_SALES) is None  # not promoted
    after = gateway.issue(ACCOUNTS, tracking["iid"])
    assert after is not None and "action::promote" not in after["labels"]
    (note,) = [n for n in gateway.notes(ACCOUNTS, tracking["iid"]) if "took" in n["body"]]
    assert "added by rita, who has Reporter" in note["body"]
    assert "needs Maintainer (rules.promote_min_access_level)" in note["body"]
    assert any("not promoted" in n for n in outcome.notes)
    before = gateway.stats.writes
    again, _ = react(gateway, settings, TODAY, payload)
    assert gateway.stats.writes == before and again.status == "ignored"


def test_the_scheduled_catch_up_checks_the_role_too(
    sandbox: Sandbox, gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    tracking = _labelled_by(sandbox, gateway, settings, workdir, 30)
    outcome = plan_triage(gateway, settings, TODAY).plan.apply(gateway)
    assert gateway.project(POST_SALES) is None
    after = gateway.issue(ACCOUNTS, tracking["iid"])
    assert after is not None and "action::promote" not in after["labels"]
    assert any("who has Developer" in n for n in outcome.notes)


def test_a_maintainers_label_promotes(
    sandbox: Sandbox, gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    tracking = _labelled_by(sandbox, gateway, settings, workdir, 40)
    payload = issue_hook(ACCOUNTS, tracking, added=["action::promote"])
    reaction, outcome = react(gateway, settings, TODAY, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0, outcome.failures
    assert gateway.project(POST_SALES) is not None
