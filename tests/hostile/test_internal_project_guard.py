"""A registry ``project:`` outside the collaboration groups, or naming
an internal project, is refused by promote, ``action::promote`` and onboard: exit 2,
nothing written (SPEC 1: ARR and health stay in internal projects; the transfer is
``PUT /projects/:id/transfer``, doc/api/projects.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.promote import plan_promote
from gl_csm.services.react import react
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY
from tests.services.onboarding_support import NEW_PROSPECT, add_account, onboard_prospect
from tests.services.react_support import issue_hook

ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
PAID = f"customer_since: {(TODAY - timedelta(days=3)).isoformat()}\n"


@pytest.fixture
def onboarded(gateway: Gateway, settings: Settings, workdir: Path) -> Path:
    return onboard_prospect(gateway, settings, workdir)


def _point_at(registry: Path, project: str) -> None:
    text = registry.read_text().replace("project: null   # filled by onboard", "")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("project:"))
    registry.write_text(text + f"\nproject: {project}\n" + PAID)


@pytest.mark.parametrize(
    "project",
    [TRIAGE, "customer-success/accounts/", "CUSTOMER-SUCCESS/escalations", "elsewhere/initrode"],
)
def test_promote_refuses_a_project_outside_the_collaboration_groups(
    gateway: Gateway, settings: Settings, onboarded: Path, project: str
) -> None:
    _point_at(onboarded, project)
    before = gateway.stats.writes
    with pytest.raises(ConfigError) as info:
        plan_promote(gateway, settings, "initrode", TODAY)
    assert info.value.exit_code == 2 and "initrode" in str(info.value)
    assert gateway.stats.writes == before
    assert gateway.project(TRIAGE)["namespace"]["full_path"] == "customer-success"


def test_action_promote_refuses_the_triage_project(
    gateway: Gateway, settings: Settings, onboarded: Path
) -> None:
    _point_at(onboarded, TRIAGE)
    tracking = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:initrode")
    gateway.update_issue(ACCOUNTS, tracking["iid"], add_labels="action::promote")
    payload = issue_hook(
        ACCOUNTS, gateway.issue(ACCOUNTS, tracking["iid"]), added=["action::promote"]
    )
    before = gateway.stats.writes
    with pytest.raises(ConfigError):
        react(gateway, settings, TODAY, payload)
    assert gateway.stats.writes == before
    assert gateway.project(TRIAGE)["namespace"]["full_path"] == "customer-success"


def test_onboard_refuses_to_write_into_an_internal_project(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    registry = add_account(workdir, "initrode", NEW_PROSPECT)
    _point_at(registry, TRIAGE)
    before = gateway.stats.writes
    with pytest.raises(ConfigError):
        plan_onboard(gateway, settings, "initrode", TODAY)
    assert gateway.stats.writes == before
