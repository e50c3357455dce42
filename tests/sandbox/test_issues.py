"""Issues (doc/api/issues.md), scoped labels (doc/user/project/labels.md) and resource
label events (doc/api/resource_label_events.md)."""

from __future__ import annotations

from typing import Any

import gitlab
import pytest

from gl_csm.sandbox import Sandbox

from .conftest import BASE, Http

P = "/projects/customer-success%2Faccounts"


def _new(http: Http, **fields: Any) -> dict[str, Any]:
    r = http.post(f"{P}/issues", json={"title": "t", **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.usefixtures("members")
def test_issue_json_shape(http: Http) -> None:
    """doc/api/issues.md "New issue": the answer fields."""
    alice = http.get("/users", params={"username": "alice"}).json()[0]
    ms = http.post(f"{P}/milestones", json={"title": "Q1"}).json()
    issue = _new(
        http,
        title="Kickoff",
        description="agenda",
        labels="a,b",
        assignee_ids=[alice["id"]],
        milestone_id=ms["id"],
        due_date="2026-12-01",
        confidential=True,
    )
    assert issue["iid"] == 1 and issue["id"] >= 1
    assert issue["state"] == "opened"
    assert issue["labels"] == ["a", "b"]
    assert issue["milestone"]["title"] == "Q1"
    assert [a["username"] for a in issue["assignees"]] == ["alice"]
    assert issue["assignee"]["username"] == "alice"
    assert issue["author"]["username"] == "gl-csm-bot"
    assert issue["due_date"] == "2026-12-01"
    assert issue["confidential"] is True
    assert issue["closed_at"] is None
    assert issue["web_url"] == f"{BASE}/customer-success/accounts/-/issues/1"
    assert issue["references"]["full"] == "customer-success/accounts#1"


def test_ids_are_global_iids_per_project(sb: Sandbox, http: Http) -> None:
    """doc/api/rest/_index.md "id vs iid": routes take the iid."""
    sb.seed(projects=[("customer-success/escalations", "private")])
    a = _new(http)
    b = http.post("/projects/customer-success%2Fescalations/issues", json={"title": "x"}).json()
    assert (a["iid"], b["iid"]) == (1, 1)
    assert a["id"] != b["id"]
    assert http.get(f"{P}/issues/{a['iid']}").json()["id"] == a["id"]
    assert b["id"] == 2
    assert http.get(f"{P}/issues/{b['id']}").status_code == 404  # an id is not an iid


def test_unknown_labels_are_created_as_project_labels(http: Http) -> None:
    """doc/api/issues.md: labels that do not exist are created."""
    http.post("/groups/customer-success/labels", json={"name": "grp", "color": "#111111"})
    _new(http, labels="grp,brand-new")
    labels = {lb["name"]: lb["is_project_label"] for lb in http.get(f"{P}/labels").json()}
    assert labels == {"grp": False, "brand-new": True}


def test_update_labels_replace_add_remove(http: Http) -> None:
    """doc/api/issues.md "Edit an issue": labels replaces, add_labels / remove_labels."""
    _new(http, labels="a,b")
    r = http.put(f"{P}/issues/1", json={"labels": "c"})
    assert r.json()["labels"] == ["c"]
    r = http.put(f"{P}/issues/1", json={"add_labels": "d,e", "remove_labels": "c"})
    assert r.json()["labels"] == ["d", "e"]
    r = http.put(f"{P}/issues/1", json={"labels": ""})
    assert r.json()["labels"] == []


@pytest.mark.edition("premium")
def test_scoped_labels_are_exclusive(http: Http) -> None:
    """doc/user/project/labels.md "Scoped labels" (Premium): one label per key; key is
    before the last ``::``."""
    issue = _new(http, labels="health::green,priority::1")
    assert issue["labels"] == ["health::green", "priority::1"]
    r = http.put(f"{P}/issues/1", json={"add_labels": "health::red"})
    assert r.json()["labels"] == ["health::red", "priority::1"]
    r = http.put(f"{P}/issues/1", json={"add_labels": "risk::type::cost,risk::type::roi"})
    assert "risk::type::roi" in r.json()["labels"]
    assert "risk::type::cost" not in r.json()["labels"]
    # Different keys: "risk::type" vs "risk" do not exclude each other.
    r = http.put(f"{P}/issues/1", json={"add_labels": "risk::high"})
    assert {"risk::type::roi", "risk::high"} <= set(r.json()["labels"])
    r = http.put(f"{P}/issues/1", json={"labels": "a::1,a::2"})
    assert r.json()["labels"] == ["a::2"]


@pytest.mark.edition("premium")
def test_resource_label_events(gl: gitlab.Gitlab) -> None:
    """doc/api/resource_label_events.md: add/remove events, incl. scoped replacement
    (Premium: scoped labels are exclusive)."""
    project = gl.projects.get("customer-success/accounts")
    issue = project.issues.create({"title": "t", "labels": ["health::green"]})
    issue.labels = ["health::green", "health::red"]
    issue.save()
    events = [
        (e.action, e.label["name"], e.resource_type)
        for e in issue.resourcelabelevents.list(get_all=True)
    ]
    assert events == [
        ("add", "health::green", "Issue"),
        ("remove", "health::green", "Issue"),
        ("add", "health::red", "Issue"),
    ]
    event = issue.resourcelabelevents.list()[0]
    assert event.resource_id == issue.id
    assert event.user["username"] == "gl-csm-bot"
    assert issue.notes.list() == []  # label changes are events, not notes


def test_state_events_and_closed_at(http: Http) -> None:
    """doc/api/issues.md: state_event close|reopen."""
    _new(http)
    closed = http.put(f"{P}/issues/1", json={"state_event": "close"}).json()
    assert closed["state"] == "closed" and closed["closed_at"]
    assert closed["closed_by"]["username"] == "gl-csm-bot"
    reopened = http.put(f"{P}/issues/1", json={"state_event": "reopen"}).json()
    assert (reopened["state"], reopened["closed_at"]) == ("opened", None)


def test_update_needs_a_parameter(http: Http) -> None:
    _new(http)
    r = http.put(f"{P}/issues/1", json={})
    assert r.status_code == 400
    assert "at least one parameter must be provided" in r.json()["error"]


@pytest.mark.usefixtures("members")
def test_system_notes_for_assignees_and_due_date(http: Http) -> None:
    """doc/api/notes.md: system notes (``system: true``) record changes."""
    bob = http.get("/users", params={"username": "bob"}).json()[0]
    _new(http)
    http.put(f"{P}/issues/1", json={"assignee_ids": [bob["id"]], "due_date": "2026-01-31"})
    notes = http.get(f"{P}/issues/1/notes", params={"sort": "asc"}).json()
    assert [(n["body"], n["system"]) for n in notes] == [
        ("assigned to @bob", True),
        ("changed due date to January 31, 2026", True),
    ]
    assert http.get(f"{P}/issues/1").json()["user_notes_count"] == 0


@pytest.mark.usefixtures("members")
def test_list_filters(http: Http) -> None:
    """doc/api/issues.md "List project issues": labels (all must match, None/Any),
    not[labels], state, search+in, iids[], assignee_username, milestone, confidential."""
    alice = http.get("/users", params={"username": "alice"}).json()[0]
    http.post(f"{P}/milestones", json={"title": "Q1"})
    ms = http.get(f"{P}/milestones").json()[0]
    _new(http, title="alpha", labels="x,y", description="about apples")
    _new(http, title="beta", labels="x", assignee_ids=[alice["id"]], milestone_id=ms["id"])
    _new(http, title="gamma", confidential=True)
    http.put(f"{P}/issues/3", json={"state_event": "close"})

    def titles(**query: Any) -> list[str]:
        return sorted(i["title"] for i in http.get(f"{P}/issues", params=query).json())

    assert titles() == ["alpha", "beta", "gamma"]
    assert titles(state="opened") == ["alpha", "beta"]
    assert titles(state="closed") == ["gamma"]
    assert titles(labels="x,y") == ["alpha"]
    assert titles(labels="x") == ["alpha", "beta"]
    assert titles(labels="None") == ["gamma"]
    assert titles(labels="Any") == ["alpha", "beta"]
    assert titles(**{"not[labels]": "y"}) == ["beta", "gamma"]
    assert titles(search="apples") == ["alpha"]
    assert titles(search="apples", **{"in": "title"}) == []
    assert titles(search="BET", **{"in": "title"}) == ["beta"]
    assert titles(**{"iids[]": ["1", "3"]}) == ["alpha", "gamma"]
    assert titles(assignee_username="alice") == ["beta"]
    assert titles(author_username="gl-csm-bot") == ["alpha", "beta", "gamma"]
    assert titles(milestone="Q1") == ["beta"]
    assert titles(milestone="None") == ["alpha", "gamma"]
    assert titles(confidential="true") == ["gamma"]


def test_order_and_updated_after(sb: Sandbox, http: Http) -> None:
    """doc/api/issues.md: order_by created_at|updated_at, sort asc|desc, updated_after."""
    import datetime as dt

    moments = iter(dt.datetime(2026, 1, d, tzinfo=dt.UTC) for d in range(1, 28))
    sb.store.clock = lambda: next(moments)
    for title in ("one", "two", "three"):
        _new(http, title=title)
    http.put(f"{P}/issues/1", json={"description": "touched"})
    by_created = [i["title"] for i in http.get(f"{P}/issues").json()]
    assert by_created == ["three", "two", "one"]
    asc = [i["title"] for i in http.get(f"{P}/issues", params={"sort": "asc"}).json()]
    assert asc == ["one", "two", "three"]
    by_updated = http.get(f"{P}/issues", params={"order_by": "updated_at"}).json()
    assert by_updated[0]["title"] == "one"
    since = by_updated[0]["updated_at"]
    recent = http.get(f"{P}/issues", params={"updated_after": since}).json()
    assert [i["title"] for i in recent] == ["one"]


def test_group_and_global_issue_listing(sb: Sandbox, http: Http) -> None:
    """doc/api/issues.md "List group issues" and "List issues" (scope created_by_me)."""
    sb.seed(
        projects=[
            ("customer-success/escalations", "private"),
            ("account-management/customers/acme", "private"),
        ]
    )
    _new(http, title="in accounts")
    http.post("/projects/customer-success%2Fescalations/issues", json={"title": "in esc"})
    http.post("/projects/account-management%2Fcustomers%2Facme/issues", json={"title": "acme"})
    group = http.get("/groups/customer-success/issues").json()
    assert sorted(i["title"] for i in group) == ["in accounts", "in esc"]
    top = http.get("/groups/account-management/issues").json()
    assert [i["title"] for i in top] == ["acme"]
    assert len(http.get("/issues").json()) == 3
    assert http.get("/issues", params={"scope": "assigned_to_me"}).json() == []


def test_python_gitlab_issue_round_trip(project: Any) -> None:
    issue = project.issues.create({"title": "x", "labels": ["l1"]})
    issue.title = "renamed"
    issue.state_event = "close"
    issue.save()
    again = project.issues.get(issue.iid)
    assert (again.title, again.state, again.labels) == ("renamed", "closed", ["l1"])
    assert [i.iid for i in project.issues.list(labels=["l1"], state="closed")] == [issue.iid]


def test_with_labels_details(http: Http) -> None:
    """doc/api/issues.md: ``with_labels_details=true`` gives label objects."""
    _new(http, labels="b,a")
    labels = http.get(f"{P}/issues/1", params={"with_labels_details": "true"}).json()["labels"]
    assert [lb["name"] for lb in labels] == ["a", "b"]
    assert set(labels[0]) >= {"id", "name", "color", "description"}


def test_created_at_can_be_set(http: Http) -> None:
    """doc/api/issues.md: ``created_at`` (administrators and owners)."""
    issue = _new(http, created_at="2025-03-04T05:06:07Z")
    assert issue["created_at"] == "2025-03-04T05:06:07.000Z"
