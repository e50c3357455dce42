"""The customer-visible files follow the project's phase: promote
rewrites the phase passages (only the bot's sections, one commit), verify reports a
phase mismatch, and an upgrade engagement's milestones start from today."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.collaboration.promote import plan_promote
from gl_csm.services.collaboration.verify import plan_verify
from gl_csm.templates import manifest_for
from tests.conftest import TODAY
from tests.services.onboarding_support import onboard_prospect

PRE = "account-management/pre-sales"
POST = "account-management/customers"
PERSON_LINE = "Our own note for Initrode: the platform team meets on Tuesdays.\n"


@pytest.fixture
def prospect(gateway: Gateway, settings: Settings, workdir: Path) -> Path:
    return onboard_prospect(gateway, settings, workdir)


def _readme(gateway: Gateway, path: str, name: str = "README.md") -> str:
    project = gateway.project(path)
    assert project is not None
    return gateway.file_text(project["id"], name, "main") or ""


def _person_edits_readme(gateway: Gateway, path: str) -> None:
    project = gateway.project(path)
    assert project is not None
    text = _readme(gateway, path) + "\n" + PERSON_LINE
    actions = [{"action": "update", "file_path": "README.md", "content": text}]
    gateway.commit(project["id"], "main", "A person's edit", actions, "person-edit")


def test_promote_rewrites_only_the_phase_passages_in_one_commit(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    """README "Where we are" and the instructions' "Now: ..." say post-sales after
    promote; a person's text in the README stays; a rerun writes nothing."""
    assert "**Where we are:** evaluation" in _readme(gateway, f"{PRE}/initrode")
    _person_edits_readme(gateway, f"{PRE}/initrode")
    prospect.write_text(prospect.read_text() + f"customer_since: {TODAY.isoformat()}\n")
    plan = plan_promote(gateway, settings, "initrode", TODAY)
    commits = [c for c in plan.changes if c.action == "commit"]
    assert len(commits) == 1 and "README.md" in commits[0].detail
    assert "PLEASE-READ-THESE-INSTRUCTIONS.md" in commits[0].detail
    assert plan.apply(gateway).exit_code == 0
    readme = _readme(gateway, f"{POST}/initrode")
    assert "**Where we are:** onboarding" in readme
    assert "**Where we are:** evaluation" not in readme
    assert PERSON_LINE in readme
    instructions = _readme(gateway, f"{POST}/initrode", "PLEASE-READ-THESE-INSTRUCTIONS.md")
    assert "## Now: onboarding and adoption" in instructions
    assert "## Now: the evaluation" not in instructions
    before = gateway.stats.writes
    assert plan_promote(gateway, settings, "initrode", TODAY).apply(gateway).changes == []
    assert gateway.stats.writes == before


def test_verify_reports_a_phase_mismatch_and_fix_repairs_it(
    gateway: Gateway, settings: Settings, prospect: Path
) -> None:
    """A project moved to post-sales by hand still says pre-sales: verify names the
    files (phase mismatch); --fix rewrites their phase passages only."""
    project = gateway.project(f"{PRE}/initrode")
    assert project is not None
    gateway.transfer_project(project["id"], POST)
    text = re.sub(r"(?m)^project: .*$", f"project: {POST}/initrode", prospect.read_text())
    prospect.write_text(text + f"customer_since: {TODAY.isoformat()}\n")
    result = plan_verify(gateway, settings, "initrode", TODAY)
    mismatches = [d for d in result.drift if "phase mismatch" in d.detail]
    assert {d.item for d in mismatches} == {"README.md", "PLEASE-READ-THESE-INSTRUCTIONS.md"}
    assert all("says phase pre-sales" in d.detail for d in mismatches)
    assert result.plan.apply(gateway).exit_code == 0
    again = plan_verify(gateway, settings, "initrode", TODAY)
    assert not [d for d in again.drift if "phase mismatch" in d.detail]


def test_an_upgrade_engagement_plans_from_today(settings: Settings) -> None:
    """A customer since 2023 who finished onboarding gets milestones from today, not
    2023 dates (the preview said "onboarding target 2023-04-30")."""
    from gl_csm.registry import load_registry

    account = load_registry(settings.accounts_dir, ["acme-corp"]).by_slug()["acme-corp"]
    assert account.customer_since == date(2023, 3, 1)
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    desired = collab.desired_state(
        manifest,
        account,
        settings,
        TODAY,
        phase="post-sales",
        path=f"{POST}/acme-corp",
        web_url="https://gitlab.example.com/x",
    )
    assert all(m.start_date == TODAY for m in desired.milestones)
    # Past onboarding: the existing-customer playbook (its own milestones, from today).
    assert desired.variant == "existing"
    review = next(m for m in desired.milestones if m.key == "success-plan-review")
    assert review.due_date == TODAY + timedelta(days=30)
    assert "2023-" not in desired.files["README.md"]
    # A project made for it as a new customer (made while it was onboarding) still
    # plans from today.
    as_new = collab.desired_state(
        manifest,
        account,
        settings,
        TODAY,
        phase="post-sales",
        path=f"{POST}/acme-corp",
        web_url="https://gitlab.example.com/x",
        variant="new",
    )
    onboarding = next(m for m in as_new.milestones if m.key == "onboarding")
    assert onboarding.due_date == TODAY + timedelta(days=60)
    # Its "Where we are" follows the customer, past onboarding now: not the onboarding
    # target of a window that ended long ago.
    assert "**Where we are:** your onboarding is complete" in as_new.files["README.md"]
    assert "onboarding target" not in as_new.files["README.md"]
    assert "2023-" not in as_new.files["README.md"]
