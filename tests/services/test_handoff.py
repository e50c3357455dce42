"""`gl-csm handoff` (SPEC 5 Handoff, handbook 003 account handoff) end to end against
the in-process sandbox, and the `team.csm` text edit of the registry file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, dry_run_outcome
from gl_csm.registry_writeback import RegistryEditError, with_csm, write_csm
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.moves.handoff import plan_handoff
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY

ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
ESCALATIONS = "customer-success/escalations"
POST = "account-management/customers"
PRE = "account-management/pre-sales"


def uid(gw: Gateway, name: str) -> int:
    user = gw.user(name)
    assert user is not None, name
    return int(user["id"])


def bot_issue(
    gw: Gateway, project: str, kind: str, key: str, assignees: list[str], *, title: str = "x"
) -> dict:
    """An issue as triage would leave it: marker, assignees."""
    body = f"{markers.marker(kind, key)}\nbody\n"
    return gw.create_issue(
        project,
        title,
        body,
        markers.token(kind, key),
        assignee_ids=[uid(gw, a) for a in assignees],
    )


def assignees(gw: Gateway, project: str, iid: int) -> list[str]:
    issue = gw.issue(project, iid)
    assert issue is not None
    return [a["username"] for a in issue["assignees"]]


def level(gw: Gateway, project_path: str, username: str) -> int | None:
    project = gw.project(project_path)
    assert project is not None
    for m in gw.members(project["id"]):
        if m["username"] == username:
            return int(m["access_level"])
    return None


CS_TEAM = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture
def edition() -> str:
    return "free"


@pytest.fixture
def sandbox(settings: Settings, edition: str) -> Sandbox:
    """The GitLab edition under test (SPEC 7.1): Free keeps one assignee per issue."""
    sb = Sandbox(edition=edition)
    seed_sandbox(sb, settings)
    return sb


@pytest.fixture(autouse=True)
def cs_org(request: pytest.FixtureRequest) -> None:
    """As in a real Customer Success org, the team can read the internal projects: they
    are Reporters of their group (doc/user/permissions.md; GitLab drops an assignee who
    cannot read the project, app/services/issuable_base_service.rb)."""
    if "gateway" not in request.fixturenames:
        return
    gateway = request.getfixturevalue("gateway")
    held = {
        m["username"]
        for m in gateway.gl.http_list("/groups/customer-success/members", get_all=True)
    }
    for name in CS_TEAM:
        if name not in held:
            gateway.gl.http_post(
                "/groups/customer-success/members",
                post_data={"user_id": uid(gateway, name), "access_level": 20},
            )


@pytest.fixture
def world(gateway: Gateway, settings: Settings, edition: str) -> dict[str, dict]:
    """Setup and onboard have run for acme-corp (post-sales, CSM alice) and tyrell
    (pre-sales); triage left bot issues of acme-corp and of acme-corp-labs."""
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    for slug in ("acme-corp", "tyrell"):
        assert plan_onboard(gateway, settings, slug, TODAY).apply(gateway).exit_code == 0
    return {
        # Two assignees only where GitLab keeps them (Premium).
        "triage": bot_issue(
            gateway,
            TRIAGE,
            "triage",
            "acme-corp",
            ["alice", "bob"][: 2 if edition != "free" else 1],
        ),
        "escalation": bot_issue(gateway, ESCALATIONS, "escalation", "acme-corp", ["alice"]),
        "reminder": bot_issue(gateway, ACCOUNTS, "reminder", "acme-corp:ebr.2026q4", ["alice"]),
        "closed": bot_issue(gateway, ACCOUNTS, "reminder", "acme-corp:ebr.2025q4", ["alice"]),
        "reassigned": bot_issue(gateway, ACCOUNTS, "reminder", "acme-corp:renewal", ["carol"]),
        "labs": bot_issue(gateway, TRIAGE, "triage", "acme-corp-labs", ["alice"]),
    }


def handoff(gw: Gateway, settings: Settings, slug: str, new: str) -> Plan:
    return plan_handoff(gw, settings, slug, new, TODAY)


def tracking(gw: Gateway, slug: str) -> dict:
    found = gw.find_issue_by_marker(ACCOUNTS, markers.token("tracking", slug))
    assert found is not None
    return found


# Premium: the bot keeps the other assignees next to the new CSM (Free keeps one assignee).
@pytest.mark.edition("premium")
def test_post_sales_handoff_does_every_part(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """SPEC 5 Handoff: registry, membership (post-sales CSM: owner), assignees of the
    open bot issues, checklist; the previous CSM stays a member (never delete)."""
    gateway.update_issue(ACCOUNTS, world["closed"]["iid"], state_event="close")
    out = handoff(gateway, settings, "acme-corp", "erin").apply(gateway)
    assert out.exit_code == 0, out.failures

    project = f"{POST}/acme-corp"
    assert level(gateway, project, "erin") == 50
    assert level(gateway, project, "alice") == 50  # kept: a person removes them

    # GitLab Free: one assignee per issue, the accountable person (SPEC 7.1).
    assert assignees(gateway, TRIAGE, world["triage"]["iid"]) == ["erin"]
    assert assignees(gateway, ESCALATIONS, world["escalation"]["iid"]) == ["erin"]
    assert assignees(gateway, ACCOUNTS, world["reminder"]["iid"]) == ["erin"]
    assert assignees(gateway, ACCOUNTS, tracking(gateway, "acme-corp")["iid"]) == ["erin"]
    # Closed, reassigned by a person, or another account's (slug prefix): untouched.
    assert assignees(gateway, ACCOUNTS, world["closed"]["iid"]) == ["alice"]
    assert assignees(gateway, ACCOUNTS, world["reassigned"]["iid"]) == ["carol"]
    assert assignees(gateway, TRIAGE, world["labs"]["iid"]) == ["alice"]

    checklist = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:handoff:acme-corp/erin")
    assert checklist is not None
    assert [a["username"] for a in checklist["assignees"]] == ["erin"]
    body = checklist["description"]
    for step in (
        "handbook 003",
        "Introduction call with the customer",
        "Account review",
        "Open issues and risks",
        "Success plan",
        "Salesforce",
        "Remove alice from the collaboration project",
    ):
        assert step in body, step
    assert f"#{world['triage']['iid']}" in body and "Escalation" in body
    # GitLab Free: one assignee (the new CSM); the previous CSM, whose checkpoints the
    # handoff call and the introduction are, is told by a mention.
    assert "the previous CSM (@alice) stays on the account" in body
    assert body.count("@") == 1

    registry = yaml.safe_load((settings.accounts_dir / "acme-corp.yml").read_text())
    assert registry["team"] == {"csm": "erin", "sa": "bob", "ae": "carol", "pse": "dave"}


@pytest.mark.parametrize("edition", ["premium"])
def test_premium_keeps_the_other_assignees_and_assigns_both_csms(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """SPEC 7.1: on Premium (``Issue#allows_multiple_assignees?``, ee/app/models/ee/
    issue.rb) the other assignees stay and the checklist is assigned to both CSMs."""
    premium = dataclasses.replace(settings, gitlab_edition="premium")
    out = handoff(gateway, premium, "acme-corp", "erin").apply(gateway)
    assert out.exit_code == 0, out.failures
    assert assignees(gateway, TRIAGE, world["triage"]["iid"]) == ["bob", "erin"]
    checklist = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:handoff:acme-corp/erin")
    assert checklist is not None
    assert sorted(a["username"] for a in checklist["assignees"]) == ["alice", "erin"]
    assert "@" not in checklist["description"]  # both assigned: assignment notifies


def test_new_csm_who_cannot_read_the_accounts_project_is_refused(
    gateway: Gateway, settings: Settings, sandbox: Sandbox
) -> None:
    """GitLab drops an assignee who cannot read the project and keeps the old
    one (app/services/issuable_base_service.rb, filter_assignees_using_checks): a handoff
    to such a CSM would report success and change nothing. Refused, nothing written."""
    sandbox.seed(users=["zed"])  # a GitLab user outside the CS group
    before = gateway.stats.writes
    with pytest.raises(UsageError) as info:
        handoff(gateway, settings, "acme-corp", "zed")
    assert info.value.exit_code == 2
    assert "cannot read customer-success/accounts" in str(info.value)
    assert gateway.stats.writes == before


def test_pre_sales_new_csm_gets_reporter(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """SPEC 5 Onboard: pre-sales, the CSM is a reporter for visibility."""
    assert handoff(gateway, settings, "tyrell", "erin").apply(gateway).exit_code == 0
    assert level(gateway, f"{PRE}/tyrell", "erin") == 20
    assert level(gateway, f"{PRE}/tyrell", "alice") == 20


def test_member_with_more_access_is_not_lowered(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """bob is a maintainer of tyrell (SA): becoming its CSM (reporter) changes nothing."""
    plan = handoff(gateway, settings, "tyrell", "bob")
    assert [c.action for c in plan.changes if c.action == "add-member"] == []
    assert plan.apply(gateway).exit_code == 0
    assert level(gateway, f"{PRE}/tyrell", "bob") == 40


def test_rerun_writes_nothing(world: dict[str, dict], gateway: Gateway, settings: Settings) -> None:
    assert handoff(gateway, settings, "acme-corp", "erin").apply(gateway).exit_code == 0
    before = gateway.stats
    plan = handoff(gateway, settings, "acme-corp", "erin")
    assert plan.changes == [] and "nothing to do" in plan.notes[0]
    plan.apply(gateway)
    assert gateway.stats.writes == before.writes
    assert gateway.stats.reads == before.reads  # the registry says it all


def test_run_stopped_before_the_registry_finishes_without_duplicates(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """Everything but the registry edit was applied (a failure at the end): the rerun
    only writes the registry; the checklist is found by its marker."""
    plan = handoff(gateway, settings, "acme-corp", "erin")
    assert plan.changes[-1].action == "update-registry"
    Plan(plan.changes[:-1]).apply(gateway)
    again = handoff(gateway, settings, "acme-corp", "erin")
    assert [c.action for c in again.changes] == ["update-registry"]
    assert again.apply(gateway).exit_code == 0
    listed = gateway.issues(ACCOUNTS, state="all")
    assert sum("gl-csm:handoff:" in (i["description"] or "") for i in listed) == 1


def test_dry_run_writes_nothing(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    file = settings.accounts_dir / "acme-corp.yml"
    text = file.read_text()
    before = gateway.stats.writes
    plan = handoff(gateway, settings, "acme-corp", "erin")
    outcome = dry_run_outcome(plan)
    actions = [c.action for c in outcome.changes]
    # The checklist's iid is recorded in the tracking card (the next handoff finds it
    # with one read, services/lookup.py).
    # The collaboration project's team parts in one commit (README, instructions).
    assert actions == ["add-member", "commit"] + ["update-issue"] * 5 + [
        "create-issue",
        "update-issue",
        "update-registry",
    ]
    assert outcome.changes[0].customer_visible
    assert gateway.stats.writes == before
    assert file.read_text() == text


def test_unknown_new_csm_is_exit_2_before_any_write(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    file = settings.accounts_dir / "acme-corp.yml"
    text = file.read_text()
    before = gateway.stats.writes
    with pytest.raises(UsageError) as info:
        handoff(gateway, settings, "acme-corp", "nobody-here")
    assert info.value.exit_code == 2
    assert "nobody-here" in str(info.value) and "nothing was written" in str(info.value)
    assert gateway.stats.writes == before and file.read_text() == text


def test_not_a_username_is_exit_2(gateway: Gateway, settings: Settings) -> None:
    with pytest.raises(UsageError):
        handoff(gateway, settings, "acme-corp", "@all")


def test_same_csm_is_nothing_to_do(gateway: Gateway, settings: Settings) -> None:
    before = gateway.stats
    plan = handoff(gateway, settings, "acme-corp", "alice")
    assert plan.changes == [] and "already its CSM" in plan.notes[0]
    assert gateway.stats == before


def test_account_not_onboarded_still_hands_off(gateway: Gateway, settings: Settings) -> None:
    """No project yet: registry and checklist; onboard adds the member later."""
    out = handoff(gateway, settings, "acme-corp-labs", "erin")
    assert [c.action for c in out.changes] == ["create-issue", "update-registry"]
    assert any("no collaboration project" in n for n in out.notes)
    assert out.apply(gateway).exit_code == 0


def test_an_anchored_team_is_handed_off_and_keeps_its_anchor(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """Registry files may use YAML anchors (round-trip edits)."""
    file = settings.accounts_dir / "acme-corp.yml"
    file.write_text(file.read_text().replace("team: {", "team: &t {"))
    out = handoff(gateway, settings, "acme-corp", "erin")
    assert out.apply(gateway).exit_code == 0
    assert "team: &t {csm: erin, " in file.read_text()


# ---------------------------------------------------------------- team.csm text edit

BLOCK = """\
# Acme (kept comment)
name: Acme
team:
  # the account team
  sa: bob   # SA
  csm: alice   # owner

project: x/y
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: A  # c\nteam: {csm: alice, sa: bob}  # team\nproject: x\n",
            "name: A  # c\nteam: {csm: erin, sa: bob}  # team\nproject: x\n",
        ),
        ("name: A\nteam: {sa: bob}\n", "name: A\nteam: {csm: erin, sa: bob}\n"),
        ("name: A\nteam: {}\n", "name: A\nteam: {csm: erin}\n"),
        ("name: A\nteam: null  # later\n", "name: A\nteam: {csm: erin}  # later\n"),
        ("name: A\n", "name: A\nteam: {csm: erin}\n"),
        ("name: A", "name: A\nteam: {csm: erin}\n"),
        (BLOCK, BLOCK.replace("csm: alice", "csm: erin")),
        ("team:\n  sa: bob\nname: A\n", "team:\n  csm: erin\n  sa: bob\nname: A\n"),
        ("name: A\r\nteam: {csm: 'alice'}\r\n", "name: A\r\nteam: {csm: 'erin'}\r\n"),
    ],
)
def test_with_csm_changes_only_team_csm(text: str, expected: str) -> None:
    assert with_csm(text, "erin") == expected


def test_with_csm_quotes_a_username_yaml_would_read_as_another_type() -> None:
    assert with_csm("team: {csm: a}\n", "true") == 'team: {csm: "true"}\n'
    assert with_csm("team: {csm: a}\n", "1234") == 'team: {csm: "1234"}\n'


def test_with_csm_refuses_a_layout_it_cannot_edit_safely() -> None:
    with pytest.raises(RegistryEditError):
        with_csm("team: [alice]\n", "erin")
    # An anchored team is edited in place (ruamel.yaml round trip), its anchor kept.
    assert with_csm("team: &a {csm: x}\n", "erin") == "team: &a {csm: erin}\n"
    with pytest.raises(ValueError):
        with_csm("team: {csm: x}\n", "a b")


def test_write_csm_is_atomic_and_keeps_every_other_line(tmp_path: Path) -> None:
    file = tmp_path / "acme.yml"
    file.write_text(BLOCK)
    file.chmod(0o640)
    assert write_csm(file, "erin") is True
    assert file.read_text().splitlines() == BLOCK.replace("csm: alice", "csm: erin").splitlines()
    assert file.stat().st_mode & 0o777 == 0o640
    assert write_csm(file, "erin") is False
    assert [p.name for p in tmp_path.iterdir()] == ["acme.yml"]  # no temporary file left


def test_account_without_a_csm_gets_one(gateway: Gateway, settings: Settings) -> None:
    """No previous CSM: nothing to swap; the checklist is the new CSM's alone."""
    file = settings.accounts_dir / "new-co.yml"
    file.write_text("# keep me\nname: New Co\nsegment: scale\n")
    out = handoff(gateway, settings, "new-co", "erin")
    assert [c.action for c in out.changes] == ["create-issue", "update-registry"]
    assert out.apply(gateway).exit_code == 0
    issue = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:handoff:new-co/erin")
    assert issue is not None and [a["username"] for a in issue["assignees"]] == ["erin"]
    assert "Remove" not in issue["description"] and "None" not in issue["description"]
    assert file.read_text() == "# keep me\nname: New Co\nsegment: scale\nteam: {csm: erin}\n"


def test_issues_opened_by_triage_follow_the_new_csm(gateway: Gateway, settings: Settings) -> None:
    """The markers triage really writes (not hand-made ones): initech is red with an
    escalation requested, so triage opens its triage and escalation issues."""
    from gl_csm.services.triage.run import plan_triage

    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    assert plan_onboard(gateway, settings, "initech", TODAY).apply(gateway).exit_code == 0
    plan_triage(gateway, settings, TODAY).plan.apply(gateway)
    opened = [
        (project, i["iid"])
        for project in (ACCOUNTS, TRIAGE, ESCALATIONS)
        for i in gateway.issues(project, state="opened")
        if any(key.split(":")[0] == "initech" for _, key in markers.markers_in(i["description"]))
        and "alice" in [a["username"] for a in i["assignees"]]
    ]
    assert {p for p, _ in opened} >= {ACCOUNTS, TRIAGE}
    assert handoff(gateway, settings, "initech", "erin").apply(gateway).exit_code == 0
    for project, iid in opened:
        assert "alice" not in assignees(gateway, project, iid), (project, iid)
        assert "erin" in assignees(gateway, project, iid), (project, iid)


PERSON_LINE = "Our own note: the platform team meets on Tuesdays.\n"


def _file(gw: Gateway, path: str, name: str) -> str:
    project = gw.project(path)
    assert project is not None
    return gw.file_text(project["id"], name, "main") or ""


def test_what_the_customer_reads_follows_the_handoff(
    world: dict[str, dict], gateway: Gateway, settings: Settings
) -> None:
    """SPEC 5: the bot's parts of customer-visible files follow the registry: after a
    handoff the README's team table, the instructions' members and the open Welcome
    call issue name the new CSM (profile links, no mention), in ONE commit, and what
    people wrote around them stays; the checklist says it was done; a rerun writes
    nothing."""
    path = f"{PRE}/tyrell"
    project = gateway.project(path)
    assert project is not None
    readme = _file(gateway, path, "README.md") + "\n" + PERSON_LINE
    gateway.commit(
        project["id"],
        "main",
        "A person's edit",
        [{"action": "update", "file_path": "README.md", "content": readme}],
        "person-edit",
    )
    commits_before = len(gateway.commits(project["id"]))

    assert handoff(gateway, settings, "tyrell", "frank").apply(gateway).exit_code == 0

    readme = _file(gateway, path, "README.md")
    assert "| Customer Success Manager | [frank](" in readme
    assert "[alice](" not in readme and "@frank" not in readme
    assert PERSON_LINE in readme
    instructions = _file(gateway, path, "PLEASE-READ-THESE-INSTRUCTIONS.md")
    assert "Customer Success Manager: [frank](" in instructions and "[alice](" not in instructions
    assert len(gateway.commits(project["id"])) == commits_before + 1
    welcome = next(i for i in gateway.issues(project["id"]) if "Welcome" in i["title"])
    assert "GitLab: Customer Success Manager, [frank](" in welcome["description"]
    assert "[alice](" not in welcome["description"]
    assert markers.has_marker(welcome["description"], "project-issue", "tyrell/welcome-call")

    checklist = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:handoff:tyrell/frank")
    assert checklist is not None
    assert (
        "what the customer reads in the collaboration project names frank as CSM"
        in checklist["description"]
    )
    assert "README.md" in checklist["description"]

    before = gateway.stats.writes
    assert handoff(gateway, settings, "tyrell", "frank").apply(gateway).exit_code == 0
    assert gateway.stats.writes == before
