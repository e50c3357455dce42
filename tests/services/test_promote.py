"""`gl-csm promote` (SPEC 5 Promote, handbook 001 pre-sales -> post-sales)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.services.collaboration.promote import plan_promote
from tests.conftest import TODAY
from tests.services.onboarding_support import NEW_PROSPECT, add_account, onboard_prospect

PRE = "account-management/pre-sales"
POST = "account-management/customers"


@pytest.fixture
def prospect(gateway: Gateway, settings: Settings, workdir: Path) -> Path:
    """Initrode onboarded in pre-sales; returns its registry file."""
    return onboard_prospect(gateway, settings, workdir)


def pay(registry: Path, when: date) -> None:
    registry.write_text(registry.read_text() + f"customer_since: {when.isoformat()}\n")


def test_refused_until_the_customer_has_paid(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    before = gateway.stats.writes
    with pytest.raises(UsageError) as info:
        plan_promote(gateway, settings, "initrode", TODAY)
    assert "customer_since is not set" in str(info.value) and "initrode" in str(info.value)
    assert gateway.stats.writes == before


def test_promote_moves_the_project_and_starts_onboarding(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    paid = TODAY - timedelta(days=10)
    pay(prospect, paid)
    out = plan_promote(gateway, settings, "initrode", TODAY).apply(gateway)
    assert out.exit_code == 0, out.failures
    project = gateway.project(f"{POST}/initrode")
    assert project is not None
    # Moved: the old path only redirects to it (GitLab's routable.rb redirect routes).
    old = gateway.project(f"{PRE}/initrode")
    assert old is not None and old["path_with_namespace"] == f"{POST}/initrode"
    pid = project["id"]
    members = {m["username"]: m["access_level"] for m in gateway.members(pid)}
    assert members["alice"] == 50  # CSM owner (was reporter)
    assert members == {"alice": 50, "bob": 40, "carol": 40, "dave": 30}
    issues = {i["title"]: i for i in gateway.issues(pid)}
    welcome = issues["Welcome to GitLab call"]
    assert [a["username"] for a in welcome["assignees"]] == ["carol"]
    # customer_since + 7 days is past: today + 7 days.
    assert welcome["due_date"] == (TODAY + timedelta(days=7)).isoformat()
    assert welcome["milestone"]["title"] == "Onboarding"
    # Post-sales items added, pre-sales ones kept, nothing duplicated.
    assert len(issues) == len(gateway.issues(pid)) == 6
    assert "Onboarding checklist" in issues
    # The pre-sales proof of concept is closed with a note saying why, never deleted.
    poc = issues["Proof of concept - success criteria and plan"]
    assert poc["state"] == "closed"
    notes = [n["body"] for n in gateway.notes(pid, poc["iid"])]
    assert any("pre-sales issue is closed. Nothing was deleted" in n for n in notes), notes
    assert all(i["state"] == "opened" for t, i in issues.items() if t != poc["title"])
    titles = [m["title"] for m in gateway.milestones(pid)]
    assert sorted(titles) == sorted(
        [
            "Proof of concept",
            "Onboarding",
            "Implementation - infrastructure ready",
            "First value",
            "Executive Business Review (month 6)",
            "Outcome achieved",
        ]
    )
    onboarding = next(m for m in gateway.milestones(pid) if m["title"] == "Onboarding")
    assert onboarding["due_date"] == (paid + timedelta(days=60)).isoformat()
    # The pre-sales milestone is closed with its last issue (GitLab closes none by
    # itself; doc/api/milestones.md "Edit milestone", state_event=close).
    poc_ms = next(m for m in gateway.milestones(pid) if m["title"] == "Proof of concept")
    assert poc_ms["state"] == "closed"
    tracking = gateway.find_issue_by_marker("customer-success/accounts", "gl-csm:tracking:initrode")
    assert "lifecycle::onboarding" in tracking["labels"]
    assert "priority::1" in tracking["labels"]  # SPEC 3: new customers are priority 1
    assert f"project: {POST}/initrode   # filled by onboard" in prospect.read_text()
    assert "keep this comment" in prospect.read_text()

    before = gateway.stats.writes
    again = plan_promote(gateway, settings, "initrode", TODAY)
    assert again.changes == []
    assert gateway.stats.writes == before


def test_a_poc_milestone_with_a_persons_open_issue_stays_open_and_says_why(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    """promote.py step 9: a person's open issue on the Proof of concept milestone keeps
    it open (the bot never closes a person's issue); the plan says which issue."""
    pay(prospect, TODAY - timedelta(days=10))
    project = gateway.project(f"{PRE}/initrode")
    assert project is not None
    poc_ms = next(m for m in gateway.milestones(project["id"]) if m["title"] == "Proof of concept")
    mine = gateway.gl.http_post(
        f"/projects/{project['id']}/issues",
        post_data={"title": "Load test results", "milestone_id": poc_ms["id"]},
    )
    plan = plan_promote(gateway, settings, "initrode", TODAY)
    assert not [c for c in plan.changes if c.action == "close-milestone"]
    assert any(
        f"'Proof of concept' stays open: #{mine['iid']} 'Load test results'" in n
        for n in plan.notes
    ), plan.notes
    out = plan.apply(gateway)
    assert out.exit_code == 0, out.failures
    after = next(m for m in gateway.milestones(project["id"]) if m["id"] == poc_ms["id"])
    assert after["state"] == "active"


def test_welcome_call_due_a_week_after_payment_when_that_is_ahead(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    pay(prospect, TODAY - timedelta(days=2))
    assert plan_promote(gateway, settings, "initrode", TODAY).apply(gateway).exit_code == 0
    issues = gateway.issues(f"{POST}/initrode")
    welcome = next(i for i in issues if i["title"] == "Welcome to GitLab call")
    assert welcome["due_date"] == (TODAY + timedelta(days=5)).isoformat()


def test_what_people_set_on_the_welcome_call_is_kept(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    pid = gateway.project(f"{PRE}/initrode")["id"]
    welcome = next(i for i in gateway.issues(pid) if i["title"] == "Welcome to GitLab call")
    gateway.update_issue(pid, welcome["iid"], due_date="2027-01-05")
    pay(prospect, TODAY - timedelta(days=1))
    assert plan_promote(gateway, settings, "initrode", TODAY).apply(gateway).exit_code == 0
    welcome = gateway.issue(pid, welcome["iid"])
    assert welcome["due_date"] == "2027-01-05"
    assert [a["username"] for a in welcome["assignees"]] == ["carol"]


def test_name_taken_in_target_is_a_clear_error_and_nothing_moves(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    """GITLAB_API_NOTES Transfer: 400 "Project with same name or path in target
    namespace already exists" becomes a message with account, project, GitLab's
    answer and what to do; the project stays in pre-sales, nothing else is written."""
    post = gateway.group(POST)
    gateway.create_project(post, "initrode", "Initrode old")
    pay(prospect, TODAY - timedelta(days=3))
    plan = plan_promote(gateway, settings, "initrode", TODAY)
    assert plan.changes[0].action == "transfer-project"
    before = gateway.stats.writes
    out = plan.apply(gateway)
    assert out.exit_code == 1
    message = out.failures[0].message
    assert "initrode" in message and f"{PRE}/initrode" in message
    assert "already exists" in message and "stays where it was" in message
    assert "rename" in message
    assert gateway.stats.writes == before + 1  # only the refused transfer
    assert gateway.project(f"{PRE}/initrode") is not None
    assert f"project: {PRE}/initrode" in prospect.read_text()


def test_no_permission_is_a_clear_error(
    gateway: Gateway, settings: Settings, prospect: Path, sandbox: Sandbox
) -> None:
    pay(prospect, TODAY - timedelta(days=3))
    sandbox.inject("PUT", r"/transfer$", 403, {"message": "403 Forbidden"})
    out = plan_promote(gateway, settings, "initrode", TODAY).apply(gateway)
    assert out.exit_code == 1
    message = out.failures[0].message
    assert "403" in message and "Owner" in message and "stays where it was" in message
    assert gateway.project(f"{PRE}/initrode") is not None


def test_dry_run_writes_nothing(gateway: Gateway, settings: Settings, prospect: Path) -> None:
    pay(prospect, TODAY - timedelta(days=3))
    before = gateway.stats.writes
    planned = [c.to_json() for c in plan_promote(gateway, settings, "initrode", TODAY).changes]
    assert gateway.stats.writes == before
    done = plan_promote(gateway, settings, "initrode", TODAY).apply(gateway)
    assert [c.to_json() for c in done.changes] == planned


def test_promote_without_project_asks_for_onboard(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    add_account(workdir, "initrode", NEW_PROSPECT + "customer_since: 2026-11-01\n")
    with pytest.raises(UsageError, match="gl-csm onboard initrode"):
        plan_promote(gateway, settings, "initrode", TODAY)


def test_promote_names_the_registry_team_in_what_the_customer_reads(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    """SPEC 5: the bot's parts follow the registry. The SA changed while the project
    was in pre-sales; promote's one commit rewrites the phase passages and the team
    parts together, the open Welcome call names the new SA, a rerun writes nothing."""
    prospect.write_text(prospect.read_text().replace("sa: bob", "sa: erin"))
    pay(prospect, TODAY)
    plan = plan_promote(gateway, settings, "initrode", TODAY)
    commits = [c for c in plan.changes if c.action == "commit" and "passages" in c.detail]
    assert len(commits) == 1 and "the phase and team passages of" in commits[0].detail
    assert plan.apply(gateway).exit_code == 0
    project = gateway.project(f"{POST}/initrode")
    assert project is not None
    readme = gateway.file_text(project["id"], "README.md", "main") or ""
    assert "| Solutions Architect | [erin](" in readme and "[bob](" not in readme
    assert "**Where we are:** onboarding" in readme
    welcome = next(i for i in gateway.issues(project["id"]) if "Welcome" in i["title"])
    assert "GitLab: Solutions Architect, [erin](" in welcome["description"]
    before = gateway.stats.writes
    assert plan_promote(gateway, settings, "initrode", TODAY).apply(gateway).changes == []
    assert gateway.stats.writes == before
