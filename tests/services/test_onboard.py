"""`gl-csm onboard` (SPEC 5 Onboard) end to end against the in-process sandbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.verify import plan_verify
from gl_csm.services.setup import plan_setup
from gl_csm.templates import ZWSP
from tests.conftest import TODAY
from tests.services.onboarding_support import (
    NEW_COMMERCIAL,
    NEW_PROSPECT,
    Killed,
    KillingAdapter,
    add_account,
    new_gateway,
    snapshot,
)

PRE = "account-management/pre-sales"
POST = "account-management/customers"


@pytest.fixture
def ready(gateway: Gateway, settings: Settings) -> Gateway:
    """`gl-csm setup` has run: taxonomy and collaboration labels exist."""
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    return gateway


def onboard(gw: Gateway, settings: Settings, slug: str):
    return plan_onboard(gw, settings, slug, TODAY).apply(gw)


def test_enterprise_prospect_starts_in_pre_sales(
    ready: Gateway, settings: Settings, sandbox: Sandbox
) -> None:
    """SPEC 5: enterprise accounts that do not pay yet go to groups.pre_sales, private,
    with the pre-sales part of the template; handbook 001: SA/AE maintainers, PSE
    developer, CSM reporter for visibility."""
    out = onboard(ready, settings, "tyrell")
    assert out.exit_code == 0, out.failures
    project = ready.project(f"{PRE}/tyrell")
    assert project is not None and project["visibility"] == "private"
    assert project["name"] == "Tyrell Corporation"
    pid = project["id"]
    files = {e["path"] for e in ready.tree(pid) if e["type"] == "blob"}
    assert files == {
        "README.md",
        "PLEASE-READ-THESE-INSTRUCTIONS.md",
        ".gitlab/issue_templates/Meeting-agenda.md",
        ".gitlab/issue_templates/Feature-request.md",
        ".gitlab/issue_templates/Question.md",
    }
    commits = ready.commits(pid)
    assert len(commits) == 1 and "gl-csm:project-files:tyrell/" in commits[0]["message"]
    assert [m["title"] for m in ready.milestones(pid)] == ["Proof of concept"]
    issues = {i["title"]: i for i in ready.issues(pid)}
    assert set(issues) == {"Welcome to GitLab call", "Proof of concept - success criteria and plan"}
    poc = issues["Proof of concept - success criteria and plan"]
    assert [a["username"] for a in poc["assignees"]] == ["bob"]
    assert poc["milestone"]["title"] == "Proof of concept"
    # The Welcome call is preloaded bare; promote schedules it once the customer pays.
    welcome = issues["Welcome to GitLab call"]
    assert welcome["assignees"] == [] and welcome["due_date"] is None
    for key, issue in (("welcome-call", welcome), ("poc", poc)):
        assert markers.has_marker(issue["description"], "project-issue", f"tyrell/{key}")
    members = {m["username"]: m["access_level"] for m in ready.members(pid)}
    assert members == {"bob": 40, "carol": 40, "dave": 30, "alice": 20}
    tracking = ready.find_issue_by_marker("customer-success/accounts", "gl-csm:tracking:tyrell")
    assert tracking is not None
    assert "lifecycle::pre-sales" in tracking["labels"]
    # Collaboration labels come from the groups (setup), none was made on the project.
    assert not [lb for lb in ready.project_labels(pid) if lb.get("is_project_label")]


def test_paying_enterprise_starts_in_post_sales(
    ready: Gateway, settings: Settings, sandbox: Sandbox
) -> None:
    """SPEC 5 "unless they already pay": a paying scale account goes to post-sales with
    the post-sales items, the CSM as owner and the Welcome call scheduled for the AE."""
    out = onboard(ready, settings, "wayne-enterprises")
    assert out.exit_code == 0, out.failures
    pid = ready.project(f"{POST}/wayne-enterprises")["id"]
    assert [m["title"] for m in ready.milestones(pid)] == [
        "Onboarding",
        "Implementation - infrastructure ready",
        "First value",
        "Executive Business Review (month 6)",
        "Outcome achieved",
    ]
    onboarding = next(m for m in ready.milestones(pid) if m["title"] == "Onboarding")
    # customer_since 2026-10-15 + 60-day strategic/scale onboarding window (SPEC 3).
    assert onboarding["due_date"] == "2026-12-14"
    titles = {i["title"] for i in ready.issues(pid)}
    assert "Proof of concept - success criteria and plan" not in titles
    assert {"Welcome to GitLab call", "Onboarding checklist"} <= titles
    members = {m["username"]: m["access_level"] for m in ready.members(pid)}
    assert members == {"frank": 50, "bob": 40, "carol": 40}
    welcome = next(i for i in ready.issues(pid) if i["title"] == "Welcome to GitLab call")
    assert [a["username"] for a in welcome["assignees"]] == ["carol"]
    # customer_since + 7 is past on 2026-11-23: today + 7.
    assert welcome["due_date"] == "2026-11-30"


#: What only a new customer is told (handbook 003: the new-customer playbook).
NEW_CUSTOMER_WORDS = (
    "Welcome to GitLab",
    "first 45 days",
    "First value",
    "month 6",
    "Onboarding checklist",
    "onboarding target",
)


def _visible_texts(gw: Gateway, pid: int) -> list[str]:
    texts = [
        gw.file_text(pid, e["path"], "main") or "" for e in gw.tree(pid) if e["type"] == "blob"
    ]
    texts += [i["title"] + "\n" + (i["description"] or "") for i in gw.issues(pid, state="all")]
    texts += [m["title"] + "\n" + (m["description"] or "") for m in gw.milestones(pid)]
    return texts


@pytest.mark.parametrize(
    ("slug", "objectives", "ebr", "renewal"),
    [
        # strategic since 2023-03-01: EBRs every September 1st (SPEC 5.2).
        ("acme-corp", 4, "2027-09-01", "2027-02-28"),
        # commercial since 2023-11-01: no "first 45 days".
        ("soylent", 4, "2027-05-01", "2027-10-31"),
    ],
)
def test_existing_customer_gets_the_existing_customer_variant(
    ready: Gateway, settings: Settings, slug: str, objectives: int, ebr: str, renewal: str
) -> None:
    """SPEC 5 Onboard, handbook 003 ("the appropriate playbook (New, Existing
    Customer)"): a customer paying for years is not told it is new: no Welcome call,
    no onboarding, first-value or month-6 milestones; the README says where the
    engagement stands (success plan, next EBR, renewal) and nothing internal. verify
    finds nothing missing, and a rerun writes nothing."""
    out = onboard(ready, settings, slug)
    assert out.exit_code == 0, out.failures
    pid = ready.project(f"{POST}/{slug}")["id"]
    assert [m["title"] for m in ready.milestones(pid)] == [
        "Success plan review",
        "Next Executive Business Review",
    ]
    ebr_milestone = ready.milestones(pid)[1]
    assert ebr_milestone["due_date"] == ebr
    issues = ready.issues(pid)
    assert [i["title"] for i in issues] == [
        "Success plan review - objectives, progress and next steps"
    ]
    assert [a["username"] for a in issues[0]["assignees"]] == [
        "alice" if slug == "acme-corp" else "bob"
    ]
    for text in _visible_texts(ready, pid):
        for word in NEW_CUSTOMER_WORDS:
            assert word not in text, (word, text[:200])
    readme = ready.file_text(pid, "README.md", "main") or ""
    assert f"Success plan: {objectives} business objectives" in readme
    assert f"Our next Executive Business Review with your executives: {ebr}." in readme
    assert f"Your subscription renews on {renewal}." in readme
    assert "**Where we are:** your teams work in GitLab" in readme

    result = plan_verify(ready, settings, slug, TODAY)
    assert result.variant == "existing"
    assert result.drift == [] and result.plan.changes == []
    before = ready.stats.writes
    assert plan_onboard(ready, settings, slug, TODAY).apply(ready).changes == []
    assert ready.stats.writes == before


def test_a_new_customer_is_verified_as_a_new_customer_a_year_later(
    ready: Gateway, settings: Settings, workdir: Path
) -> None:
    """The variant is the one the project was made with (its bot items say so), not
    the customer's today: a year on, the customer is past onboarding, yet verify
    compares its project with the new-customer variant and finds nothing missing. Only
    the README's "Where we are" is out of date (no triage ran to keep it so): it still
    says onboarding, and `--fix` rewrites that passage alone, in one commit."""
    add_account(workdir, "vandelay", NEW_COMMERCIAL)
    assert onboard(ready, settings, "vandelay").exit_code == 0
    later = TODAY + timedelta(days=400)
    result = plan_verify(ready, settings, "vandelay", later)
    assert result.variant == "new"
    assert [(d.kind, d.item) for d in result.drift] == [("file", "README.md")]
    assert [c.action for c in result.plan.changes] == ["commit"]
    assert "the phase passages of README.md" in result.plan.changes[0].detail


def test_commercial_goes_straight_to_post_sales(
    ready: Gateway, settings: Settings, workdir: Path
) -> None:
    """handbook 001: commercial accounts have no pre-sales project, no POC, and a
    45-day onboarding window."""
    add_account(workdir, "vandelay", NEW_COMMERCIAL)
    out = onboard(ready, settings, "vandelay")
    assert out.exit_code == 0, out.failures
    pid = ready.project(f"{POST}/vandelay")["id"]
    onboarding = next(m for m in ready.milestones(pid) if m["title"] == "Onboarding")
    assert onboarding["due_date"] == "2026-12-25"  # 2026-11-10 + 45 days
    assert all("Proof of concept" not in i["title"] for i in ready.issues(pid))
    members = {m["username"]: m["access_level"] for m in ready.members(pid)}
    assert members == {"bob": 50, "carol": 40, "frank": 30}


@pytest.mark.parametrize(
    ("slug", "text", "milestones", "issues", "members"),
    [
        ("tyrell", None, 1, 2, 4),
        ("wayne-enterprises", None, 5, 5, 3),
        ("vandelay", NEW_COMMERCIAL, 5, 5, 3),
        ("initrode", NEW_PROSPECT, 1, 2, 4),
        # An existing customer (handbook 003): success plan review and next EBR.
        ("acme-corp", None, 2, 1, 4),
    ],
)
def test_write_budget_and_reads(
    ready: Gateway,
    settings: Settings,
    workdir: Path,
    slug: str,
    text: str | None,
    milestones: int,
    issues: int,
    members: int,
) -> None:
    """Writes = 1 project + 1 commit + one per milestone, issue and member +
    the tracking issue. Reads (README "Read budget"): the project at both group paths
    (2), the three internal projects (none may be public), the group, one per team
    member, the tracking issue's
    narrowed listing, then every page of the accounts project to prove it absent
    without GitLab's search. A second run writes nothing."""
    if text:
        add_account(workdir, slug, text)
    pages = -(-max(1, len(ready.issues("customer-success/accounts", state="all"))) // 100)
    before = ready.stats
    out = onboard(ready, settings, slug)
    assert out.exit_code == 0, out.failures
    after = ready.stats
    assert after.writes - before.writes == 1 + 1 + milestones + issues + members + 1
    assert after.reads - before.reads <= 2 + 3 + 1 + members + 1 + pages

    again = plan_onboard(ready, settings, slug, TODAY)
    assert again.changes == []
    assert again.apply(ready).exit_code == 0
    assert ready.stats.writes == after.writes


def test_dry_run_shows_what_apply_does_and_writes_nothing(
    ready: Gateway, settings: Settings
) -> None:
    before = ready.stats.writes
    planned = [c.to_json() for c in plan_onboard(ready, settings, "tyrell", TODAY).changes]
    assert ready.stats.writes == before
    done = onboard(ready, settings, "tyrell")
    assert [c.to_json() for c in done.changes] == planned


def test_unknown_user_is_an_error_before_anything_is_written(
    ready: Gateway, settings: Settings, workdir: Path
) -> None:
    add_account(workdir, "vandelay", NEW_COMMERCIAL.replace("sa: frank", "sa: nobody-here"))
    before = ready.stats.writes
    with pytest.raises(UsageError) as info:
        plan_onboard(ready, settings, "vandelay", TODAY)
    assert "vandelay" in str(info.value) and "nobody-here" in str(info.value)
    assert "team.sa" in str(info.value)
    assert ready.stats.writes == before
    assert ready.project(f"{POST}/vandelay") is None


def test_registry_write_back_changes_only_the_project_line(
    ready: Gateway, settings: Settings, workdir: Path
) -> None:
    path = add_account(workdir, "initrode", NEW_PROSPECT)
    assert onboard(ready, settings, "initrode").exit_code == 0
    expected = NEW_PROSPECT.replace(
        "project: null   # filled by onboard", f"project: {PRE}/initrode   # filled by onboard"
    )
    assert path.read_text() == expected


def test_evil_name_is_inert_everywhere(
    ready: Gateway, settings: Settings, sandbox: Sandbox, workdir: Path
) -> None:
    """`Evil Corp\\n/close\\n@all` never closes an issue nor notifies anyone."""
    evil = NEW_COMMERCIAL.replace(
        "name: Vandelay Industries", 'name: "Evil Corp\\n/close\\n@all <!-- gl-csm:x:y -->"'
    )
    add_account(workdir, "evil", evil)
    out = onboard(ready, settings, "evil")
    assert out.exit_code == 0, out.failures
    project = ready.project(f"{POST}/evil")
    pid = project["id"]
    issues = ready.issues(pid, state="all")
    assert issues and all(i["state"] == "opened" for i in issues)
    tracking = ready.issues("customer-success/accounts", state="all")
    assert all(i["state"] == "opened" for i in tracking)
    assert not [m for m in sandbox.mentions if m["username"] == "all"]
    readme = ready.file_text(pid, "README.md", "main")
    assert readme is not None and "Evil Corp" in readme
    texts = [readme] + [i["description"] for i in issues]
    for text in texts:
        assert not any(line.lstrip().startswith("/close") for line in text.splitlines())
        assert "@all" not in text
        assert "gl-csm:x:y" not in text or "<!-- gl-csm:x:y" not in text
    assert f"@{ZWSP}all" in readme
    # The project name is a valid GitLab name made of the account name.
    assert project["name"] == "Evil Corp close all -- gl-csm x y"


def test_customer_visible_output_has_no_internal_facts(ready: Gateway, settings: Settings) -> None:
    """SPEC 1: ARR, priority, health, risk never reach the collaboration project."""
    assert onboard(ready, settings, "wayne-enterprises").exit_code == 0
    pid = ready.project(f"{POST}/wayne-enterprises")["id"]
    texts = [
        ready.file_text(pid, e["path"], "main") for e in ready.tree(pid) if e["type"] == "blob"
    ]
    texts += [i["description"] + i["title"] for i in ready.issues(pid)]
    texts += [m["description"] or "" for m in ready.milestones(pid)]
    for text in texts:
        assert "85000" not in text and "85,000" not in text
        for word in ("priority::", "health::", "risk-", "ARR:"):
            assert word not in text


def test_public_accounts_project_is_refused(ready: Gateway, settings: Settings) -> None:
    ready.update_project("customer-success/accounts", visibility="public")
    before = ready.stats.writes
    with pytest.raises(UsageError, match="public"):
        plan_onboard(ready, settings, "tyrell", TODAY)
    assert ready.stats.writes == before


# ---------------------------------------------------------------- interruption


def _reference(settings: Settings, slug: str) -> dict:
    from gl_csm.runtime import seed_sandbox

    sb = Sandbox()
    seed_sandbox(sb, settings)
    gw = new_gateway(sb)
    plan_setup(gw, settings).apply(gw)
    assert onboard(gw, settings, slug).exit_code == 0
    return snapshot(gw, f"{PRE}/{slug}", slug)


def _fresh(settings: Settings) -> Sandbox:
    from gl_csm.runtime import seed_sandbox

    sb = Sandbox()
    seed_sandbox(sb, settings)
    gw = new_gateway(sb)
    plan_setup(gw, settings).apply(gw)
    return sb


@pytest.mark.parametrize("after", [False, True], ids=["before-send", "answer-lost"])
def test_killed_at_every_write_then_rerun_equals_uninterrupted(
    settings: Settings, workdir: Path, after: bool
) -> None:
    """A run killed part-way (before a write is sent, or after GitLab did it
    but before the answer came back) and run again ends in exactly the state of an
    uninterrupted run: no duplicate issue, milestone or commit."""
    registry = workdir / "accounts" / "initrode.yml"
    add_account(workdir, "initrode", NEW_PROSPECT)
    reference = _reference(settings, "initrode")
    reference_registry = registry.read_text()
    total = 1 + 1 + 1 + 2 + 4 + 1
    for nth in range(1, total + 1):
        registry.write_text(NEW_PROSPECT)
        sb = _fresh(settings)
        killer = KillingAdapter(SandboxAdapter(sb), nth, after=after)
        with pytest.raises(Killed):
            onboard(new_gateway(sb, killer), settings, "initrode")
        rerun = new_gateway(sb)
        out = onboard(rerun, settings, "initrode")
        assert out.exit_code == 0, (nth, out.failures)
        assert snapshot(rerun, f"{PRE}/initrode", "initrode") == reference, nth
        assert registry.read_text() == reference_registry
        # And a third run has nothing left to do.
        assert plan_onboard(rerun, settings, "initrode", TODAY).changes == []


@pytest.mark.parametrize(
    "path_regex",
    [r"/projects$", r"/repository/commits$", r"/milestones$", r"/issues$", r"/members$"],
)
def test_lost_answers_are_retried_without_duplicates(
    settings: Settings, workdir: Path, path_regex: str
) -> None:
    """GITLAB_API_NOTES: a retried POST could duplicate; the gateway finds the object
    the lost answer created (sandbox inject after_processing) before sending again."""
    add_account(workdir, "initrode", NEW_PROSPECT)
    reference = _reference(settings, "initrode")
    (workdir / "accounts" / "initrode.yml").write_text(NEW_PROSPECT)
    sb = _fresh(settings)
    sb.inject("POST", path_regex, 502, after_processing=True)
    gw = new_gateway(sb)
    out = onboard(gw, settings, "initrode")
    assert out.exit_code == 0, out.failures
    assert snapshot(gw, f"{PRE}/initrode", "initrode") == reference


def test_persistent_failure_names_it_and_rerun_completes(settings: Settings, workdir: Path) -> None:
    """A write GitLab keeps refusing fails the run (exit 1, naming it); the next run
    finishes the job."""
    add_account(workdir, "initrode", NEW_PROSPECT)
    reference = _reference(settings, "initrode")
    (workdir / "accounts" / "initrode.yml").write_text(NEW_PROSPECT)
    sb = _fresh(settings)
    sb.inject("POST", r"/milestones$", 500, times=50)
    gw = new_gateway(sb)
    out = onboard(gw, settings, "initrode")
    assert out.exit_code == 1
    assert "milestone" in out.failures[0].message and "500" in out.failures[0].message
    sb._injections.clear()
    assert onboard(gw, settings, "initrode").exit_code == 0
    assert snapshot(gw, f"{PRE}/initrode", "initrode") == reference


def test_missing_group_is_a_config_error(ready: Gateway, settings: Settings, workdir: Path) -> None:
    from gl_csm.config import Groups

    add_account(workdir, "initrode", NEW_PROSPECT)
    bad = replace(settings, groups=Groups("nowhere/pre", "nowhere/post"))
    before = ready.stats.writes
    expected = r"group 'nowhere/pre' \(groups.pre_sales\) does not exist"
    with pytest.raises(UsageError, match=expected):
        plan_onboard(ready, bad, "initrode", TODAY)
    assert ready.stats.writes == before
