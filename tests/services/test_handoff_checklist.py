"""The handoff checklist states only what is true: no "member of the
collaboration project" when there is none, no "issues assigned" when there are none."""

from __future__ import annotations

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.moves.handoff import plan_handoff
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY

ACCOUNTS = "customer-success/accounts"


def _checklist(gateway: Gateway, slug: str, new_csm: str) -> str:
    found = markers.index_by_marker(gateway.issues(ACCOUNTS, state="all"), "handoff")
    return found[f"{slug}/{new_csm}"]["description"]


def test_without_a_project_the_checklist_does_not_claim_membership(
    gateway: Gateway, settings: Settings
) -> None:
    """globex has a `project:` in the registry but no project in GitLab yet."""
    assert plan_handoff(gateway, settings, "globex", "erin", TODAY).apply(gateway).exit_code == 0
    body = _checklist(gateway, "globex", "erin")
    assert "is a member of the collaboration" not in body
    assert "not onboarded yet" not in body
    assert "there is no collaboration project yet: `gl-csm onboard globex` will add erin" in body
    assert "there is no tracking issue or other bot issue yet to assign" in body


def test_with_a_project_the_checklist_names_the_access_given(
    gateway: Gateway, settings: Settings
) -> None:
    """tyrell is onboarded (pre-sales: the CSM is a reporter) and has its tracking issue."""
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    assert plan_onboard(gateway, settings, "tyrell", TODAY).apply(gateway).exit_code == 0
    assert plan_handoff(gateway, settings, "tyrell", "frank", TODAY).apply(gateway).exit_code == 0
    body = _checklist(gateway, "tyrell", "frank")
    assert "frank is a member of the collaboration project, with the CSM's access of its " in body
    assert "(reporter)" in body
    assert "the tracking issue is assigned to frank; there is no other open bot issue" in body
