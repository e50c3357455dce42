"""Free vs Premium, and who may be assigned an issue.

Sources: app/services/issuable_base_service.rb (``filter_assignees_using_checks``,
``user_can_read?``), app/models/issue.rb / ee/app/models/ee/issue.rb
(``allows_multiple_assignees?``: the Premium ``multiple_issue_assignees`` feature),
ee/app/services/ee/issuable_base_service.rb (``filter_mutually_exclusive_labels``:
only with the Premium ``scoped_labels`` feature), doc/user/permissions.md and
doc/user/public_access.md (who reads a private/internal/public project),
doc/user/project/members/_index.md (inherited membership).
"""

from __future__ import annotations

from typing import Any

import pytest

from gl_csm.sandbox import Sandbox
from gl_csm.sandbox.members import add_member

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _uid(sb: Sandbox, name: str) -> int:
    user = sb.store.user_by_username(name)
    assert user is not None
    return int(user["id"])


def _member(sb: Sandbox, name: str, level: int = 30, group: str | None = None) -> None:
    holder = sb.store.group(group) if group else sb.store.project("customer-success/accounts")
    add_member(sb.store, holder, _uid(sb, name), level, sb.bot_user_id)


def _assignees(answer: dict[str, Any]) -> list[str]:
    return [a["username"] for a in answer["assignees"]]


def _create(http: Http, sb: Sandbox, *names: str) -> dict[str, Any]:
    ids = [_uid(sb, n) for n in names]
    r = http.post(f"{P}/issues", json={"title": "t", "assignee_ids": ids})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_non_member_of_a_private_project_is_dropped_silently(http: Http, sb: Sandbox) -> None:
    """filter_assignees_using_checks: users who cannot read the project are dropped;
    the create still succeeds, unassigned."""
    assert _assignees(_create(http, sb, "alice")) == []
    _member(sb, "alice")
    assert _assignees(_create(http, sb, "alice")) == ["alice"]


def test_minimal_access_cannot_read_but_guest_can(http: Http, sb: Sandbox) -> None:
    """doc/user/permissions.md: Minimal Access (5) reads nothing; Guest (10) reads issues."""
    _member(sb, "alice", 5)
    _member(sb, "bob", 10)
    assert _assignees(_create(http, sb, "alice")) == []
    assert _assignees(_create(http, sb, "bob")) == ["bob"]


def test_membership_inherited_from_a_parent_group_counts(http: Http, sb: Sandbox) -> None:
    """Members of an ancestor group are members of its projects (inherited membership)."""
    _member(sb, "carol", 20, group="customer-success")
    assert _assignees(_create(http, sb, "carol")) == ["carol"]


@pytest.mark.parametrize(
    ("visibility", "readable"), [("public", True), ("internal", True), ("private", False)]
)
def test_visibility_decides_for_non_members(
    http: Http, sb: Sandbox, visibility: str, readable: bool
) -> None:
    """doc/user/public_access.md: public and internal projects are readable by any
    signed-in user, private ones by members only."""
    sb.store.project("customer-success/accounts")["visibility"] = visibility
    assert _assignees(_create(http, sb, "alice")) == (["alice"] if readable else [])


def test_update_keeps_old_assignees_when_none_can_read(http: Http, sb: Sandbox) -> None:
    """filter_assignees_using_checks: when no requested assignee is left the parameter is
    deleted, so an update keeps the old assignees; an empty list unassigns."""
    _member(sb, "alice")
    issue = _create(http, sb, "alice")
    r = http.put(f"{P}/issues/{issue['iid']}", json={"assignee_ids": [_uid(sb, "bob")]})
    assert r.status_code == 200
    assert _assignees(r.json()) == ["alice"]
    r = http.put(f"{P}/issues/{issue['iid']}", json={"assignee_ids": []})
    assert _assignees(r.json()) == []


def test_free_keeps_only_the_first_assignee(http: Http, sb: Sandbox) -> None:
    """Free: ``allows_multiple_assignees?`` is false, ``params[id_key].first(1)`` is taken
    before the read check, so an unreadable first user leaves nobody."""
    _member(sb, "alice")
    _member(sb, "bob")
    assert _assignees(_create(http, sb, "alice", "bob")) == ["alice"]
    assert _assignees(_create(http, sb, "carol", "bob")) == []


@pytest.mark.edition("premium")
def test_premium_keeps_every_readable_assignee(http: Http, sb: Sandbox) -> None:
    """Premium: several assignees; the unreadable ones are still dropped."""
    _member(sb, "alice")
    _member(sb, "bob")
    assert _assignees(_create(http, sb, "alice", "carol", "bob")) == ["alice", "bob"]


def test_quick_action_assign_is_checked_too(http: Http, sb: Sandbox) -> None:
    """Quick actions are interpreted before ``filter_params`` (IssuableBaseService#create),
    so ``/assign`` of a non-member is dropped the same way."""
    r = http.post(f"{P}/issues", json={"title": "t", "description": "/assign @carol"})
    assert _assignees(r.json()) == []


def _labels(http: Http, iid: int) -> list[str]:
    return list(http.get(f"{P}/issues/{iid}").json()["labels"])


def test_free_scoped_labels_are_not_exclusive(http: Http) -> None:
    """Free: ``filter_mutually_exclusive_labels`` returns the ids unchanged without the
    ``scoped_labels`` feature, for ``labels``, ``add_labels`` and ``/label`` alike."""
    r = http.post(f"{P}/issues", json={"title": "t", "labels": "sentiment::green,sentiment::red"})
    iid = r.json()["iid"]
    assert _labels(http, iid) == ["sentiment::green", "sentiment::red"]
    http.put(f"{P}/issues/{iid}", json={"labels": "sentiment::green"})
    http.put(f"{P}/issues/{iid}", json={"add_labels": "sentiment::yellow"})
    assert _labels(http, iid) == ["sentiment::green", "sentiment::yellow"]
    http.post(f"{P}/issues/{iid}/notes", json={"body": "/label ~sentiment::red"})
    assert _labels(http, iid) == ["sentiment::green", "sentiment::red", "sentiment::yellow"]
    http.put(f"{P}/issues/{iid}", json={"remove_labels": "sentiment::green"})
    assert _labels(http, iid) == ["sentiment::red", "sentiment::yellow"]


@pytest.mark.edition("ultimate")
def test_ultimate_has_premium_exclusivity(http: Http) -> None:
    """Ultimate includes Premium's scoped labels."""
    r = http.post(f"{P}/issues", json={"title": "t", "labels": "sentiment::green"})
    iid = r.json()["iid"]
    http.put(f"{P}/issues/{iid}", json={"add_labels": "sentiment::red"})
    assert _labels(http, iid) == ["sentiment::red"]
