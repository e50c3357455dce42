"""The bot with the least privilege the README names, on a sandbox that answers each
request with the token's user's rights (gl_csm/sandbox/policy.py, after GitLab's
ProjectPolicy/GroupPolicy and doc/user/permissions.md).

The token's user is no administrator; it is Owner of the two collaboration groups
(projects are transferred between them: Projects::TransferService#allowed_transfer?)
and Maintainer of the internal projects, nothing else. The whole lifecycle of
test_lifecycle_strict.py (setup, onboard, promote, triage, react, handoff, disengage,
report) runs on Free and Premium; with one step less each fails, naming GitLab's answer:
setup without a role in the internal projects' group, onboard and handoff as a
Developer of the collaboration groups, promote as their Maintainer, triage as a Guest of
the internal projects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.sandbox import Sandbox
from gl_csm.sandbox.members import add_member
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.promote import plan_promote
from gl_csm.services.moves.handoff import plan_handoff
from gl_csm.services.setup import plan_setup
from gl_csm.services.triage.run import plan_triage
from tests.conftest import TODAY
from tests.services.test_lifecycle_strict import (
    ACCOUNTS,
    ESCALATIONS,
    GROUPS,
    TRIAGE,
    Life,
    _apply,
    check_once,
    final_rerun_writes_nothing,
    lifecycle,
)

INTERNAL = (ACCOUNTS, TRIAGE, ESCALATIONS)
OWNER, MAINTAINER, DEVELOPER, REPORTER, GUEST = 50, 40, 30, 20, 10


def least_privilege(
    sb: Sandbox,
    *,
    groups: int = OWNER,
    internal: int = MAINTAINER,
    internal_group: int | None = REPORTER,
) -> None:
    """The bot as the README's minimum: ``groups`` in the collaboration groups,
    ``internal`` in the internal projects, ``internal_group`` in the group holding them
    (setup's taxonomy labels are group labels there: GroupPolicy ``admin_label``,
    Reporter and up), no other membership, no administrator."""
    bot = sb.bot_user_id
    sb.set_bot_admin(False)
    for holder in [*sb.store.namespaces.values(), *sb.store.projects.values()]:
        holder["members"] = [e for e in holder["members"] if e["user_id"] != bot]
    for path in GROUPS:
        add_member(sb.store, sb.store.group(path), bot, groups, bot)
    for path in INTERNAL:
        add_member(sb.store, sb.store.project(path), bot, internal, bot)
    if internal_group is not None:
        add_member(sb.store, sb.store.group("customer-success"), bot, internal_group, bot)


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_lifecycle_with_the_least_privilege(
    workdir: Path, settings: Settings, edition: str
) -> None:
    life = Life(workdir, settings, edition, "fulltext")
    least_privilege(life.sandbox)
    assert life.gw.current_user()["is_admin"] is False
    lifecycle(life)
    check_once(life)
    final_rerun_writes_nothing(life)


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_promote_fails_clearly_as_a_maintainer_of_the_groups(
    workdir: Path, settings: Settings, edition: str
) -> None:
    """Maintainer of the collaboration groups: onboard works, the transfer of promote is
    refused (403: ``authorize! :change_namespace`` needs the project's Owner,
    lib/api/projects.rb) and named with what to do."""
    life = Life(workdir, settings, edition, "fulltext")
    least_privilege(life.sandbox, groups=MAINTAINER)
    _apply(life.gw, plan_setup(life.gw, life.settings))
    _apply(life.gw, plan_onboard(life.gw, life.settings, "tyrell", TODAY))
    life.paid("tyrell")
    outcome = plan_promote(life.gw, life.settings, "tyrell", TODAY).apply(life.gw)
    assert outcome.exit_code == 1
    text = " ".join(f.to_text() for f in outcome.failures)
    assert "could not move project account-management/pre-sales/tyrell" in text
    assert "it needs the Owner role on account-management/pre-sales/tyrell" in text


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_onboard_fails_clearly_as_a_developer_of_the_groups(
    workdir: Path, settings: Settings, edition: str
) -> None:
    """Developer of the collaboration groups: the customer project is created (GroupPolicy
    ``create_projects``), but adding its members needs Maintainer (members_spec.rb ``it
    'returns 403'`` for a developer): the failure names the account and GitLab's 403."""
    life = Life(workdir, settings, edition, "fulltext")
    least_privilege(life.sandbox, groups=DEVELOPER)
    _apply(life.gw, plan_setup(life.gw, life.settings))
    outcome = plan_onboard(life.gw, life.settings, "tyrell", TODAY).apply(life.gw)
    assert outcome.exit_code == 1
    text = " ".join(f.to_text() for f in outcome.failures)
    assert "tyrell" in text and "GitLab answered 403" in text


def test_setup_needs_a_role_in_the_internal_projects_group(
    workdir: Path, settings: Settings
) -> None:
    """Maintainer of the internal projects alone is not enough: setup's taxonomy labels
    are group labels on the group that holds them (gl_csm/services/setup.py), and a
    group label needs ``admin_label`` in that group (Reporter and up): 403, named."""
    life = Life(workdir, settings, "free", "fulltext")
    least_privilege(life.sandbox, internal_group=None)
    outcome = plan_setup(life.gw, life.settings).apply(life.gw)
    text = " ".join(f.to_text() for f in outcome.failures)
    assert "in group customer-success: GitLab answered 403" in text


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_triage_fails_clearly_as_a_guest_of_the_internal_projects(
    workdir: Path, settings: Settings, edition: str
) -> None:
    """Set up and onboarded by an administrator, then run by a token that is only a Guest
    of the internal projects: the labels triage puts on the tracking issues are refused
    (403, label ``admin_label`` needs Planner and up) and named per account."""
    life = Life(workdir, settings, edition, "fulltext")
    _apply(life.gw, plan_setup(life.gw, life.settings))
    _apply(life.gw, plan_onboard(life.gw, life.settings, "tyrell", TODAY))
    least_privilege(life.sandbox, internal=GUEST, internal_group=None)
    run = plan_triage(life.gw, life.settings, TODAY)
    outcome = run.plan.apply(life.gw)
    assert outcome.exit_code != 0
    text = " ".join(f.to_text() for f in outcome.failures)
    assert "GitLab answered 403" in text


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_handoff_fails_clearly_as_a_developer_of_the_groups(
    workdir: Path, settings: Settings, edition: str
) -> None:
    """The handoff makes the new CSM a member of the customer project: a Developer of the
    collaboration groups may not (403, ``admin_project_member`` needs Maintainer), and
    the failure names the account."""
    life = Life(workdir, settings, edition, "fulltext")
    _apply(life.gw, plan_setup(life.gw, life.settings))
    _apply(life.gw, plan_onboard(life.gw, life.settings, "acme-corp", TODAY))
    least_privilege(life.sandbox, groups=DEVELOPER)
    outcome = plan_handoff(life.gw, life.settings, "acme-corp", "erin", TODAY).apply(life.gw)
    assert outcome.exit_code != 0
    text = " ".join(f.to_text() for f in outcome.failures)
    assert "acme-corp" in text and "GitLab answered 403" in text
