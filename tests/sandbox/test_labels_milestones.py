"""Labels (doc/api/labels.md, doc/api/group_labels.md) and milestones (doc/api/milestones.md)."""

from __future__ import annotations

from typing import Any

import gitlab
import pytest

from .conftest import Http

P = "/projects/customer-success%2Faccounts"
G = "/groups/customer-success"


def test_create_and_list_project_label(http: Http) -> None:
    """doc/api/labels.md "Create a new label" and "List labels"."""
    r = http.post(
        f"{P}/labels",
        json={
            "name": "triage::needed",
            "color": "#FF0000",
            "description": "needs triage",
            "priority": 2,
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["name"], body["color"], body["priority"]) == ("triage::needed", "#FF0000", 2)
    assert body["is_project_label"] is True
    assert body["text_color"] == "#FFFFFF"
    names = [lb["name"] for lb in http.get(f"{P}/labels").json()]
    assert names == ["triage::needed"]


def test_existing_label_is_409(http: Http) -> None:
    """lib/api/helpers/label_helpers.rb: 409 ``Label already exists``, also for a label
    inherited from an ancestor group."""
    http.post(f"{G}/labels", json={"name": "segment::growth", "color": "#00ff00"})
    r = http.post(f"{P}/labels", json={"name": "segment::growth", "color": "#00ff00"})
    assert (r.status_code, r.json()) == (409, {"message": "Label already exists"})
    http.post(f"{P}/labels", json={"name": "local", "color": "#000000"})
    r = http.post(f"{P}/labels", json={"name": "local", "color": "#000000"})
    assert r.status_code == 409
    r = http.post(f"{G}/labels", json={"name": "segment::growth", "color": "#00ff00"})
    assert r.status_code == 409


def test_include_ancestor_groups(http: Http) -> None:
    """doc/api/labels.md: ``include_ancestor_groups`` defaults to true."""
    http.post(f"{G}/labels", json={"name": "group-label", "color": "#123456"})
    http.post(f"{P}/labels", json={"name": "project-label", "color": "#123456"})
    every = {lb["name"]: lb["is_project_label"] for lb in http.get(f"{P}/labels").json()}
    assert every == {"group-label": False, "project-label": True}
    # The project's own group still counts (test_labels_strict.py, labels_spec.rb).
    own = http.get(f"{P}/labels", params={"include_ancestor_groups": "false"}).json()
    assert [lb["name"] for lb in own] == ["group-label", "project-label"]


def test_group_label_listing_with_ancestors(http: Http) -> None:
    """doc/api/group_labels.md: ``include_ancestor_groups`` (default true)."""
    http.post("/groups/account-management/labels", json={"name": "top", "color": "#111111"})
    http.post(
        "/groups/account-management%2Fcustomers/labels", json={"name": "sub", "color": "#222222"}
    )
    sub = "/groups/account-management%2Fcustomers/labels"
    assert {lb["name"] for lb in http.get(sub).json()} == {"top", "sub"}
    only = http.get(sub, params={"include_ancestor_groups": "false"}).json()
    assert [lb["name"] for lb in only] == ["sub"]


def test_update_label_by_name_or_id(gl: gitlab.Gitlab, http: Http) -> None:
    """doc/api/labels.md "Edit an existing label": new_name, color, description."""
    created = http.post(f"{P}/labels", json={"name": "old", "color": "#111111"}).json()
    r = http.put(f"{P}/labels/old", json={"new_name": "new", "color": "#222222"})
    assert (r.json()["name"], r.json()["color"]) == ("new", "#222222")
    r = http.put(f"{P}/labels/{created['id']}", json={"description": "d"})
    assert r.json()["description"] == "d"
    label = gl.projects.get("customer-success/accounts").labels.get("new")
    label.description = "via python-gitlab"
    label.save()
    assert http.get(f"{P}/labels/new").json()["description"] == "via python-gitlab"
    assert http.put(f"{P}/labels/nope", json={"color": "#000000"}).status_code == 404
    assert http.put(f"{P}/labels/new", json={}).status_code == 400


def test_update_group_label(http: Http) -> None:
    """doc/api/group_labels.md "Update a group label"."""
    http.post(f"{G}/labels", json={"name": "g", "color": "#111111"})
    r = http.put(f"{G}/labels/g", json={"description": "group", "color": "#333333"})
    assert (r.json()["description"], r.json()["color"]) == ("group", "#333333")
    # Through a project: its own group's label, by a user with access to that group
    # (labels_spec.rb ``it 'returns 200 when user has access to the group label'``);
    # a label of a group above the project's own is not found (``find_label`` with
    # ``include_ancestor_groups: false``).
    assert http.put(f"{P}/labels/g", json={"color": "#444444"}).status_code == 200
    http.post("/groups/account-management/labels", json={"name": "top", "color": "#111111"})
    sub = "/projects/account-management%2Fcustomers%2Facme"
    http.post("/projects", json={"path": "acme", "namespace_id": _group_id(http)})
    assert http.put(f"{sub}/labels/top", json={"color": "#444444"}).status_code == 404


def _group_id(http: Http) -> int:
    return int(http.get("/groups/account-management%2Fcustomers").json()["id"])


def test_label_validation(http: Http) -> None:
    assert http.post(f"{P}/labels", json={"name": "x"}).json() == {"error": "color is missing"}
    r = http.post(f"{P}/labels", json={"name": "x", "color": "not-a-colour"})
    assert r.json() == {"message": {"color": ["must be a valid color code"]}}


def test_label_counts_only_with_counts(http: Http) -> None:
    """doc/api/labels.md "List labels": issue counts only with ``with_counts=true``."""
    http.post(f"{P}/labels", json={"name": "c", "color": "#111111"})
    http.post(f"{P}/issues", json={"title": "a", "labels": "c"})
    http.post(f"{P}/issues", json={"title": "b", "labels": "c"})
    http.put(f"{P}/issues/2", json={"state_event": "close"})
    assert "open_issues_count" not in http.get(f"{P}/labels").json()[0]
    label = http.get(f"{P}/labels", params={"with_counts": "true"}).json()[0]
    assert (label["open_issues_count"], label["closed_issues_count"]) == (1, 1)


class TestMilestones:
    def test_create_list_update(self, project: Any) -> None:
        """doc/api/milestones.md: create, list with state/title/search/iids, close."""
        m1 = project.milestones.create(
            {"title": "FY27-Q1", "due_date": "2026-04-30", "start_date": "2026-02-01"}
        )
        m2 = project.milestones.create({"title": "FY27-Q2", "description": "second"})
        assert (m1.iid, m2.iid) == (1, 2)
        assert m1.state == "active"
        m2.state_event = "close"
        m2.save()
        assert [m.title for m in project.milestones.list(state="active")] == ["FY27-Q1"]
        assert [m.title for m in project.milestones.list(state="closed")] == ["FY27-Q2"]
        assert [m.title for m in project.milestones.list(title="FY27-Q2")] == ["FY27-Q2"]
        assert [m.title for m in project.milestones.list(search="second")] == ["FY27-Q2"]
        assert [m.title for m in project.milestones.list(iids=[1])] == ["FY27-Q1"]
        m1.due_date = "2026-05-01"
        m1.save()
        assert project.milestones.get(m1.id).due_date == "2026-05-01"

    def test_duplicate_title(self, http: Http) -> None:
        """lib/api/milestone_responses.rb + Milestone title uniqueness: 400."""
        http.post(f"{P}/milestones", json={"title": "Q1"})
        r = http.post(f"{P}/milestones", json={"title": "Q1"})
        assert r.status_code == 400
        assert r.json() == {
            "message": 'Failed to create milestone {:title=>["already being '
            'used for another group or project milestone."]}'
        }

    @pytest.mark.parametrize("event", ["bogus"])
    def test_bad_state_event(self, http: Http, event: str) -> None:
        mid = http.post(f"{P}/milestones", json={"title": "Q1"}).json()["id"]
        r = http.put(f"{P}/milestones/{mid}", json={"state_event": event})
        assert r.json() == {"error": "state_event does not have a valid value"}
