"""Projects, groups, members and transfer."""

from __future__ import annotations

import gitlab
import pytest

from gl_csm.sandbox import Sandbox

from .conftest import BASE, Http


def _group_id(http: Http, path: str) -> int:
    return int(http.get(f"/groups/{path.replace('/', '%2F')}").json()["id"])


def test_project_by_id_and_by_encoded_path(http: Http) -> None:
    """doc/api/rest/_index.md "Namespaced paths": ``:id`` is an ID or URL-encoded path."""
    by_path = http.get("/projects/customer-success%2Faccounts").json()
    by_id = http.get(f"/projects/{by_path['id']}").json()
    assert by_path == by_id
    assert by_path["path_with_namespace"] == "customer-success/accounts"
    assert by_path["namespace"]["full_path"] == "customer-success"
    assert by_path["namespace"]["kind"] == "group"
    assert by_path["default_branch"] == "main"
    assert by_path["web_url"] == f"{BASE}/customer-success/accounts"
    assert by_path["visibility"] == "private"
    # An unencoded slash is a different route, as on GitLab.
    assert http.get("/projects/customer-success/accounts").status_code == 404


def test_create_project_in_group(gl: gitlab.Gitlab) -> None:
    """doc/api/projects.md "Create a project": name, path, namespace_id, topics, readme."""
    group = gl.groups.get("account-management/customers")
    created = gl.projects.create(
        {
            "name": "Acme Corp",
            "path": "acme",
            "namespace_id": group.id,
            "visibility": "private",
            "description": "Acme",
            "topics": ["csm", "tier-1"],
            "initialize_with_readme": True,
        }
    )
    assert created.path_with_namespace == "account-management/customers/acme"
    assert created.topics == ["csm", "tier-1"]
    readme = created.files.get("README.md", ref="main").decode().decode()
    assert readme.startswith("# Acme Corp")
    assert gl.groups.get(group.id).projects.list()[0].path == "acme"


def test_duplicate_project_path(http: Http) -> None:
    """doc/api/projects.md: a taken path answers 400 with model errors as a hash."""
    gid = _group_id(http, "customer-success")
    r = http.post("/projects", json={"name": "accounts", "path": "accounts", "namespace_id": gid})
    assert r.status_code == 400
    assert r.json() == {
        "message": {"name": ["has already been taken"], "path": ["has already been taken"]}
    }


def test_project_name_or_path_required(http: Http) -> None:
    r = http.post("/projects", json={"description": "x"})
    assert r.status_code == 400
    assert "at least one parameter must be provided" in r.json()["error"]


def test_project_cannot_be_more_visible_than_its_group(http: Http) -> None:
    """doc/user/public_access.md: a project's visibility cannot exceed its group's."""
    r = http.post("/groups", json={"name": "Secret", "path": "secret"})
    assert r.json()["visibility"] == "private"  # doc/api/groups.md default
    r = http.post(
        "/projects", json={"path": "open", "namespace_id": r.json()["id"], "visibility": "internal"}
    )
    assert r.status_code == 400
    assert r.json() == {
        "message": {"visibility_level": ["internal is not allowed in a private group."]}
    }


def test_edit_project_topics_replace_all(gl: gitlab.Gitlab) -> None:
    """doc/api/projects.md "Edit a project": ``topics`` replaces the list."""
    project = gl.projects.get("customer-success/accounts")
    project.topics = ["a", "b"]
    project.save()
    project.topics = ["c"]
    project.description = "tracking"
    project.save()
    again = gl.projects.get(project.id)
    assert again.topics == ["c"]
    assert again.description == "tracking"


def test_search_projects_and_groups(http: Http) -> None:
    """doc/api/projects.md, doc/api/groups.md: ``search``."""
    assert [p["path"] for p in http.get("/projects", params={"search": "acc"}).json()] == [
        "accounts"
    ]
    names = [g["full_path"] for g in http.get("/groups", params={"search": "sales"}).json()]
    assert names == ["account-management/pre-sales"]


def test_create_group_and_subgroup(http: Http) -> None:
    """doc/api/groups.md "Create a group": name, path, parent_id; duplicates -> 400."""
    parent = http.post(
        "/groups", json={"name": "Top", "path": "top", "visibility": "internal"}
    ).json()
    child = http.post("/groups", json={"name": "Kid", "path": "kid", "parent_id": parent["id"]})
    assert child.status_code == 201
    assert child.json()["full_path"] == "top/kid"
    again = http.post("/groups", json={"name": "Kid", "path": "kid", "parent_id": parent["id"]})
    assert again.status_code == 400
    assert again.json() == {"message": 'Failed to save group {:path=>["has already been taken"]}'}
    assert http.post("/groups", json={"name": "x"}).json() == {"error": "path is missing"}
    assert (
        http.post("/groups", json={"name": "x", "path": "x", "parent_id": 999}).status_code == 404
    )


def test_group_projects_include_subgroups(gl: gitlab.Gitlab, http: Http) -> None:
    """doc/api/groups.md "List a group's projects": ``include_subgroups``."""
    gid = _group_id(http, "account-management/customers")
    http.post("/projects", json={"path": "acme", "namespace_id": gid})
    top = gl.groups.get("account-management")
    assert top.projects.list() == []
    assert [p.path for p in top.projects.list(include_subgroups=True)] == ["acme"]


def test_members_direct_inherited_and_conflict(gl: gitlab.Gitlab, http: Http) -> None:
    """doc/api/members.md: /members vs /members/all (inherited), 409 when existing."""
    alice = gl.users.list(username="alice")[0]
    bob = gl.users.list(username="bob")[0]
    group = gl.groups.get("customer-success")
    group.members.create({"user_id": alice.id, "access_level": 30})
    project = gl.projects.get("customer-success/accounts")
    project.members.create({"user_id": bob.id, "access_level": 20})
    direct = {m.username: m.access_level for m in project.members.list()}
    assert direct == {"bob": 20}
    everyone = {m.username: m.access_level for m in project.members_all.list()}
    assert everyone["alice"] == 30 and everyone["bob"] == 20
    assert everyone["gl-csm-bot"] == 50  # the group's creator is its owner
    r = http.post(
        "/projects/customer-success%2Faccounts/members",
        json={"user_id": bob.id, "access_level": 30},
    )
    assert (r.status_code, r.json()) == (409, {"message": "Member already exists"})
    r = http.post(
        "/projects/customer-success%2Faccounts/members",
        json={"user_id": alice.id, "access_level": 31},
    )
    assert r.json() == {"error": "access_level does not have a valid value"}
    member = project.members.get(bob.id)
    member.access_level = 40
    member.save()
    assert project.members.get(bob.id).access_level == 40
    assert http.put(
        f"/projects/customer-success%2Faccounts/members/{alice.id}", json={"access_level": 40}
    ).json() == {"message": "404 Not found"}  # find_by! (lib/api/members.rb, lib/api/api.rb)


class TestTransfer:
    """doc/api/projects.md "Transfer a project to a new namespace" (errors from
    lib/api/projects.rb and Projects::TransferService)."""

    PATH = "/projects/customer-success%2Faccounts/transfer"

    def test_by_path_and_by_id(self, http: Http) -> None:
        r = http.put(self.PATH, json={"namespace": "account-management/customers"})
        assert r.status_code == 200
        assert r.json()["path_with_namespace"] == "account-management/customers/accounts"
        gid = _group_id(http, "customer-success")
        r = http.put(f"/projects/{r.json()['id']}/transfer", json={"namespace": gid})
        assert r.json()["path_with_namespace"] == "customer-success/accounts"
        # The path it left still finds it (routable.rb redirect routes, see test_redirects).
        moved_away = http.get("/projects/account-management%2Fcustomers%2Faccounts").json()
        assert moved_away["path_with_namespace"] == "customer-success/accounts"

    def test_unknown_namespace_is_404(self, http: Http) -> None:
        r = http.put(self.PATH, json={"namespace": "does/not/exist"})
        assert (r.status_code, r.json()) == (404, {"message": "404 Namespace Not Found"})

    def test_same_namespace(self, http: Http) -> None:
        r = http.put(self.PATH, json={"namespace": "customer-success"})
        assert r.status_code == 400
        assert r.json() == {
            "message": "Failed to transfer project {:new_namespace=>"
            '["Project is already in this namespace."]}'
        }

    def test_path_taken_in_target(self, sb: Sandbox, http: Http) -> None:
        sb.seed(projects=[("account-management/customers/accounts", "private")])
        r = http.put(self.PATH, json={"namespace": "account-management/customers"})
        assert r.status_code == 400
        assert r.json() == {
            "message": 'Failed to transfer project {:new_namespace=>["Project '
            "with same name or path in target namespace already "
            'exists"]}'
        }

    def test_missing_namespace_param(self, http: Http) -> None:
        assert http.put(self.PATH, json={}).json() == {"error": "namespace is missing"}

    def test_used_group_labels_follow_as_project_labels(self, gl: gitlab.Gitlab) -> None:
        """doc/user/project/settings/migrate_projects.md: labels are kept as project labels."""
        gl.groups.get("customer-success").labels.create({"name": "health::red", "color": "#ff0000"})
        project = gl.projects.get("customer-success/accounts")
        issue = project.issues.create({"title": "t", "labels": "health::red"})
        project.transfer("account-management/customers")
        moved = gl.projects.get(project.id)
        assert moved.issues.get(issue.iid).labels == ["health::red"]
        label = moved.labels.get("health::red")
        assert label.is_project_label is True
        assert label.color == "#ff0000"

    def test_python_gitlab_transfer_error(self, gl: gitlab.Gitlab) -> None:
        project = gl.projects.get("customer-success/accounts")
        with pytest.raises(gitlab.GitlabTransferProjectError) as info:
            project.transfer("customer-success")
        assert info.value.response_code == 400
