"""`gl-csm disengage` (SPEC 5 Disengage, handbook 001 disengaging with a customer)
end to end against the in-process sandbox."""

from __future__ import annotations

import pytest

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, dry_run_outcome
from gl_csm.services.moves.disengage import plan_disengage
from gl_csm.templates import ZWSP
from tests.conftest import TODAY
from tests.services.onboarding_support import add_account

ACCOUNTS = "customer-success/accounts"
TOKEN = "gl-csm:disengage:acme-corp"


def disengage(gw: Gateway, settings: Settings, slug: str, reason: str | None = None) -> Plan:
    return plan_disengage(gw, settings, slug, TODAY, reason)


def checklist(gw: Gateway) -> dict:
    found = gw.find_issue_by_marker(ACCOUNTS, TOKEN)
    assert found is not None
    return found


def test_checklist_with_reason_options_and_follow_up(gateway: Gateway, settings: Settings) -> None:
    plan = disengage(gateway, settings, "acme-corp", "Downgraded to Premium, below the threshold")
    assert [c.action for c in plan.changes] == ["create-issue"]
    assert plan.apply(gateway).exit_code == 0
    issue = checklist(gateway)
    assert [a["username"] for a in issue["assignees"]] == ["alice"]
    body = issue["description"]
    for text in (
        "handbook 001",
        "Downgraded to Premium, below the threshold",
        "Options for assistance going forward",
        "Support",
        "in writing_ to the SAL/AE (carol)",
        "documentation",
        "forum.gitlab.com",
        "Digital programs",
        "Follow-up summary",
        "account-management/customers/acme-corp",
    ):
        assert text in body, text
    assert markers.markers_in(body) == [("disengage", "acme-corp")]
    # handbook 001: the AE joins the conversation and keeps the relationship: told.
    assert "account executive (keeps the relationship): @carol" in body


def test_no_reason_asks_for_one(gateway: Gateway, settings: Settings) -> None:
    assert disengage(gateway, settings, "acme-corp").apply(gateway).exit_code == 0
    assert "No reason was given" in checklist(gateway)["description"]


def test_evil_reason_text_is_inert(gateway: Gateway, settings: Settings) -> None:
    """ARCHITECTURE rule 5: a reason from a person runs no quick action, mentions no
    one and forges no marker."""
    evil = (
        "/close\n/label ~health::red\n  /assign @vp-cs\n@all see "
        "<!-- gl-csm:tracking:acme-corp --> and <!-- gl-csm:disengage:globex -->"
    )
    assert disengage(gateway, settings, "acme-corp", evil).apply(gateway).exit_code == 0
    issue = checklist(gateway)
    assert issue["state"] == "opened"
    assert issue["labels"] == []
    assert [a["username"] for a in issue["assignees"]] == ["alice"]
    body = issue["description"]
    assert markers.markers_in(body) == [("disengage", "acme-corp")]
    assert "@all" not in body and f"@{ZWSP}all" in body
    assert "\\/close" in body
    assert gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:disengage:globex") is None


def test_rerun_writes_nothing_even_retitled_and_closed(
    gateway: Gateway, settings: Settings
) -> None:
    assert disengage(gateway, settings, "acme-corp", "r").apply(gateway).exit_code == 0
    iid = checklist(gateway)["iid"]
    gateway.update_issue(ACCOUNTS, iid, title="Acme: done", state_event="close")
    before = gateway.stats.writes
    plan = disengage(gateway, settings, "acme-corp", "another reason")
    assert plan.changes == [] and "exists (closed)" in plan.notes[0]
    plan.apply(gateway)
    assert gateway.stats.writes == before


def test_dry_run_writes_nothing(gateway: Gateway, settings: Settings) -> None:
    before = gateway.stats.writes
    outcome = dry_run_outcome(disengage(gateway, settings, "acme-corp", "r"))
    assert [c.action for c in outcome.changes] == ["create-issue"]
    assert gateway.stats.writes == before
    assert gateway.find_issue_by_marker(ACCOUNTS, TOKEN) is None


def test_unknown_csm_is_exit_2(gateway: Gateway, settings: Settings) -> None:
    add_account(
        settings.accounts_dir.parent,
        "ghost-co",
        "name: Ghost Co\nsegment: scale\nteam: {csm: nobody-here}\n",
    )
    before = gateway.stats.writes
    with pytest.raises(UsageError) as info:
        disengage(gateway, settings, "ghost-co")
    assert info.value.exit_code == 2 and "nobody-here" in str(info.value)
    assert gateway.stats.writes == before


def test_churning_account_lists_features_lost(gateway: Gateway, settings: Settings) -> None:
    add_account(
        settings.accounts_dir.parent,
        "leaving-co",
        "name: Leaving Co\nsegment: scale\nlifecycle: will-churn\nteam: {csm: erin}\n",
    )
    assert disengage(gateway, settings, "leaving-co").apply(gateway).exit_code == 0
    found = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:disengage:leaving-co")
    assert found is not None and "feature comparison" in found["description"]
    assert "(not onboarded)" in found["description"]


@pytest.mark.parametrize(
    "public",
    [ACCOUNTS, "customer-success/account-triage", "customer-success/escalations"],
)
def test_refused_while_any_internal_project_is_public(
    gateway: Gateway, settings: Settings, public: str
) -> None:
    """README "Running against GitLab": every writing command refuses (exit 2, nothing
    written) while one of the internal projects is public, not only the one it writes."""
    from gl_csm.errors import ConfigError

    gateway.update_project(public, visibility="public")
    before = gateway.stats.writes
    with pytest.raises(ConfigError) as info:
        disengage(gateway, settings, "acme-corp")
    assert info.value.exit_code == 2 and "is public" in str(info.value)
    assert public in str(info.value) and "nothing was written" in str(info.value)
    assert gateway.stats.writes == before
