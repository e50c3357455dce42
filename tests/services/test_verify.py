"""`gl-csm verify [--fix]` (SPEC 5 Verify): drift against the template, never a rewrite."""

from __future__ import annotations

import pytest

from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.verify import plan_verify, render_verification
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY

PRE = "account-management/pre-sales"
POST = "account-management/customers"


@pytest.fixture
def onboarded(gateway: Gateway, settings: Settings) -> dict:
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    assert plan_onboard(gateway, settings, "tyrell", TODAY).apply(gateway).exit_code == 0
    return gateway.project(f"{PRE}/tyrell")


def test_fresh_project_has_no_drift(gateway: Gateway, settings: Settings, onboarded: dict) -> None:
    result = plan_verify(gateway, settings, "tyrell", TODAY)
    assert result.drift == [] and result.plan.changes == []
    assert "no drift" in render_verification(result, None, "text", dry_run=False, stats=None)


def test_labels_missing_without_setup(gateway: Gateway, settings: Settings) -> None:
    """verify checks the template's labels are available to the project (group labels
    from `gl-csm setup`); --fix adds them as project labels."""
    assert plan_onboard(gateway, settings, "wayne-enterprises", TODAY).apply(gateway).exit_code == 0
    result = plan_verify(gateway, settings, "wayne-enterprises", TODAY)
    kinds = {d.kind for d in result.drift}
    assert kinds == {"label"}
    assert {d.item for d in result.drift} >= {"question", "enablement"}
    assert result.plan.apply(gateway).exit_code == 0
    assert plan_verify(gateway, settings, "wayne-enterprises", TODAY).drift == []


def test_people_changes_are_kept_and_only_missing_items_added(
    gateway: Gateway, settings: Settings, onboarded: dict
) -> None:
    pid = onboarded["id"]
    # People edit the README, close the Welcome call, retitle the POC issue, delete an
    # issue template file, lower the PSE to reporter and raise the CSM to maintainer.
    gateway.commit(
        pid,
        "main",
        "Edit README",
        [
            {"action": "update", "file_path": "README.md", "content": "# Our own README\n"},
            {"action": "delete", "file_path": ".gitlab/issue_templates/Question.md"},
        ],
        "people-edit",
    )
    issues = {i["title"]: i for i in gateway.issues(pid)}
    gateway.update_issue(pid, issues["Welcome to GitLab call"]["iid"], state_event="close")
    gateway.update_issue(
        pid, issues["Proof of concept - success criteria and plan"]["iid"], title="POC with Tyrell"
    )
    ids = {m["username"]: m["id"] for m in gateway.members(pid)}
    gateway.update_member(pid, ids["dave"], 20)
    gateway.update_member(pid, ids["alice"], 40)

    result = plan_verify(gateway, settings, "tyrell", TODAY)
    assert sorted((d.kind, d.item) for d in result.drift) == [
        ("file", ".gitlab/issue_templates/Question.md"),
        ("member", "dave"),
    ]
    doc = render_verification(result, None, "json", dry_run=False, stats=None)
    assert '"kind": "member"' in doc

    assert result.plan.apply(gateway).exit_code == 0
    assert gateway.file_text(pid, "README.md", "main") == "# Our own README\n"
    assert gateway.file_text(pid, ".gitlab/issue_templates/Question.md", "main")
    states = {i["title"]: i["state"] for i in gateway.issues(pid, state="all")}
    assert states == {"Welcome to GitLab call": "closed", "POC with Tyrell": "opened"}
    levels = {m["username"]: m["access_level"] for m in gateway.members(pid)}
    # Raised back to the template's level; more access than the template is kept.
    assert levels == {"alice": 40, "bob": 40, "carol": 40, "dave": 30}

    before = gateway.stats.writes
    again = plan_verify(gateway, settings, "tyrell", TODAY)
    assert again.drift == [] and gateway.stats.writes == before


def test_hand_made_project_matches_issues_by_title(gateway: Gateway, settings: Settings) -> None:
    """Upgrade engagement (handbook 001): a project made before gl-csm has no markers;
    issues and milestones with the template's titles count as present. Acme Corp was
    past onboarding when the project was made: the existing-customer playbook."""
    plan_setup(gateway, settings).apply(gateway)
    post = gateway.group(POST)
    project = gateway.create_project(post, "acme-corp", "Acme Corp")
    pid = project["id"]
    gateway.gl.http_post(
        f"/projects/{pid}/issues",
        post_data={
            "title": "success plan review -  objectives, progress and next steps",
            "description": "Our own review notes",
        },
    )
    gateway.create_milestone(pid, "Success Plan Review")

    result = plan_verify(gateway, settings, "acme-corp", TODAY)
    assert result.variant == "existing"
    issue_items = [d.item for d in result.drift if d.kind == "issue"]
    assert issue_items == []  # the only issue of the variant exists by title
    milestones = [d.item for d in result.drift if d.kind == "milestone"]
    assert milestones == ["Next Executive Business Review"]
    assert result.plan.apply(gateway).exit_code == 0
    titles = [i["title"] for i in gateway.issues(pid, state="all")]
    assert len([t for t in titles if "review" in t.lower()]) == 1
    assert len(gateway.milestones(pid)) == 2
    # The post-sales members of a hand-made project (CSM owner...).
    members = {m["username"]: m["access_level"] for m in gateway.members(pid)}
    assert members["alice"] == 50
    assert plan_verify(gateway, settings, "acme-corp", TODAY).drift == []


def test_verify_without_project(gateway: Gateway, settings: Settings) -> None:
    with pytest.raises(UsageError, match="gl-csm onboard"):
        plan_verify(gateway, settings, "globex", TODAY)


def _text(gw: Gateway, pid: int, name: str) -> str:
    return gw.file_text(pid, name, "main") or ""


def test_a_team_change_in_the_registry_is_drift_and_fix_rewrites_only_the_team_parts(
    gateway: Gateway, settings: Settings, onboarded: dict
) -> None:
    """SPEC 5: the bot's parts of customer-visible files follow the registry. A new SA
    in the registry: verify names each text whose team part names the old team; --fix
    rewrites those parts only (files in ONE commit, the open Welcome call issue), keeps
    what people wrote, and a second verify finds nothing and writes nothing."""
    pid = onboarded["id"]
    person = "\nOur own note: the platform team meets on Tuesdays.\n"
    gateway.commit(
        pid,
        "main",
        "A person's edit",
        [
            {
                "action": "update",
                "file_path": "README.md",
                "content": _text(gateway, pid, "README.md") + person,
            }
        ],
        "people-edit",
    )
    registry = settings.accounts_dir / "tyrell.yml"
    registry.write_text(registry.read_text().replace("sa: bob", "sa: erin"))

    result = plan_verify(gateway, settings, "tyrell", TODAY)
    team = sorted(d.item for d in result.drift if d.kind == "team")
    assert team == ["PLEASE-READ-THESE-INSTRUCTIONS.md", "README.md", "Welcome to GitLab call"]
    assert all("sa erin" in d.detail for d in result.drift if d.kind == "team")
    text = render_verification(result, None, "text", dry_run=False, stats=None)
    assert "team      README.md: names another team than the registry's" in text

    commits = len(gateway.commits(pid))
    assert result.plan.apply(gateway).exit_code == 0
    assert len(gateway.commits(pid)) == commits + 1
    readme = _text(gateway, pid, "README.md")
    assert "| Solutions Architect | [erin](" in readme and "[bob](" not in readme
    assert readme.endswith(person)
    welcome = next(i for i in gateway.issues(pid) if i["title"] == "Welcome to GitLab call")
    assert "GitLab: Solutions Architect, [erin](" in welcome["description"]

    before = gateway.stats.writes
    again = plan_verify(gateway, settings, "tyrell", TODAY)
    assert again.drift == [] and again.plan.changes == []
    assert gateway.stats.writes == before


def test_a_closed_welcome_call_and_a_part_people_took_over_are_left_alone(
    gateway: Gateway, settings: Settings, onboarded: dict
) -> None:
    """A closed issue is history (the call was held with the people it names); a file
    whose team markers people removed is theirs."""
    pid = onboarded["id"]
    own = "# Our README\n\n| Role | Who |\n|---|---|\n| CSM | alice |\n"
    gateway.commit(
        pid,
        "main",
        "Ours now",
        [{"action": "update", "file_path": "README.md", "content": own}],
        "people-own",
    )
    welcome = next(i for i in gateway.issues(pid) if i["title"] == "Welcome to GitLab call")
    gateway.update_issue(pid, welcome["iid"], state_event="close")
    registry = settings.accounts_dir / "tyrell.yml"
    registry.write_text(registry.read_text().replace("sa: bob", "sa: erin"))

    result = plan_verify(gateway, settings, "tyrell", TODAY)
    assert [d.item for d in result.drift if d.kind == "team"] == [
        "PLEASE-READ-THESE-INSTRUCTIONS.md"
    ]
    assert result.plan.apply(gateway).exit_code == 0
    assert _text(gateway, pid, "README.md") == own
    closed = gateway.issue(pid, welcome["iid"])
    assert closed is not None and "[bob](" in closed["description"]
