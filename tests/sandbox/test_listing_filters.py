"""Issue listing filters as spec/requests/api/issues/*_spec.rb assert."""

from __future__ import annotations

import datetime as dt

import pytest

from gl_csm.sandbox import Sandbox

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def test_two_assignee_usernames_or_with_assignee_id_are_refused(members: Sandbox) -> None:
    """spec/requests/api/issues/get_project_issues_spec.rb (and issues_spec.rb,
    get_group_issues_spec.rb): ``it 'returns error when multiple assignees are passed'``
    (400, ``allows one value, but found 2``) and ``it 'returns error when
    assignee_username and assignee_id are passed together'`` (400, ``mutually
    exclusive``)."""
    http = Http(members)
    two = [("assignee_username[]", "alice"), ("assignee_username[]", "bob")]
    for path in (f"{P}/issues", "/issues", "/groups/customer-success/issues"):
        r = http.get(path, params=[*two, ("scope", "all")])
        assert (r.status_code, r.json()) == (
            400,
            {"error": "assignee_username allows one value, but found 2: alice, bob"},
        )
        r = http.get(path, params={"assignee_username": "alice", "assignee_id": 1})
        assert r.json() == {"error": "assignee_id, assignee_username are mutually exclusive"}


@pytest.mark.edition("premium")
def test_several_assignee_usernames_on_premium(members: Sandbox) -> None:
    """EE CheckAssigneesCount: with ``multiple_issue_assignees`` (Premium) several names
    are allowed and an issue must have them all (IssuableFinder ``assigned_to_all``)."""
    http = Http(members)
    alice, bob = (members.store.user_by_username(n)["id"] for n in ("alice", "bob"))  # type: ignore[index]
    http.post(f"{P}/issues", json={"title": "both", "assignee_ids": [alice, bob]})
    http.post(f"{P}/issues", json={"title": "alice", "assignee_ids": [alice]})
    r = http.get(
        f"{P}/issues", params=[("assignee_username[]", "alice"), ("assignee_username[]", "bob")]
    )
    assert [i["title"] for i in r.json()] == ["both"]


def test_not_milestone(http: Http) -> None:
    """``not[milestone]``: issues without that milestone (lib/api/helpers/
    issues_helpers.rb ``optional :not, type: Hash`` with ``milestone``; IssuableFinder
    negated params, ``NegatedIssuableFinder``-style ``by_negated_milestone``)."""
    ms = http.post(f"{P}/milestones", json={"title": "Q1"}).json()
    http.post(f"{P}/issues", json={"title": "in Q1", "milestone_id": ms["id"]})
    http.post(f"{P}/issues", json={"title": "none"})
    r = http.get(f"{P}/issues", params={"not[milestone]": "Q1"})
    assert [i["title"] for i in r.json()] == ["none"]


def test_due_date_filter(sb: Sandbox, http: Http) -> None:
    """IssuesFinder#by_due_date: ``0`` (none), ``any``, ``overdue`` (before today),
    ``today``, ``tomorrow``, ``week`` (Monday to Sunday), ``month``,
    ``next_month_and_previous_two_weeks``; anything else is ``due_date does not have a
    valid value`` (lib/api/helpers/issues_helpers.rb ``values:``)."""
    today = sb.store.clock().date()
    days = {
        "yesterday": today - dt.timedelta(days=1),
        "today": today,
        "tomorrow": today + dt.timedelta(days=1),
        "far": today + dt.timedelta(days=400),
    }
    for title, day in days.items():
        http.post(f"{P}/issues", json={"title": title, "due_date": day.isoformat()})
    http.post(f"{P}/issues", json={"title": "undated"})

    def titles(value: str) -> set[str]:
        return {i["title"] for i in http.get(f"{P}/issues", params={"due_date": value}).json()}

    assert titles("0") == {"undated"}
    assert titles("any") == set(days)
    assert titles("overdue") == {"yesterday"}
    assert titles("today") == {"today"}
    assert titles("tomorrow") == {"tomorrow"}
    assert "far" not in titles("month") and "today" in titles("month")
    assert "far" not in titles("next_month_and_previous_two_weeks")
    assert http.get(f"{P}/issues", params={"due_date": "soon"}).json() == {
        "error": "due_date does not have a valid value"
    }


def test_archived_projects_left_out_of_cross_project_listings(http: Http) -> None:
    """issues_spec.rb "filtering by non_archived": ``it 'returns issues from non archived
    projects by default'`` and ``it 'returns issues from archived project with
    non_archived set as false'``; get_group_issues_spec.rb ``it 'returns only non
    archived projects issues'``. A project's own listing keeps them."""
    http.post(f"{P}/issues", json={"title": "kept"})
    http.post(f"{P}/archive")
    assert http.get("/issues", params={"scope": "all"}).json() == []
    assert http.get("/groups/customer-success/issues").json() == []
    every = http.get("/issues", params={"scope": "all", "non_archived": "false"}).json()
    assert [i["title"] for i in every] == ["kept"]
    group = http.get("/groups/customer-success/issues", params={"non_archived": "false"})
    assert [i["title"] for i in group.json()] == ["kept"]
    assert [i["title"] for i in http.get(f"{P}/issues").json()] == ["kept"]
