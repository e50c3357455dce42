"""Old project paths keep working after a transfer or a path change.

Sources: app/models/concerns/routable.rb (``find_by_full_path(path, follow_redirects:
true)``), app/models/route.rb (``create_redirect_for_old_path``,
``delete_conflicting_redirects``), lib/api/helpers.rb (``find_project``: an API ``:id``
with a ``/`` follows redirects), doc/api/projects.md ("Transfer a project", "Edit a
project" ``path``), doc/user/project/repository/_index.md ("Repository path changes":
the old path redirects until a project is created there).
"""

from __future__ import annotations

from pathlib import Path

import gitlab

from gl_csm.sandbox import Sandbox

from .conftest import Http

OLD = "customer-success%2Faccounts"


def test_old_path_finds_the_project_after_a_transfer(gl: gitlab.Gitlab, http: Http) -> None:
    """Every route taking ``:id`` resolves the old path to the moved project."""
    project = gl.projects.get("customer-success/accounts")
    project.issues.create({"title": "kept"})
    r = http.put(f"/projects/{OLD}/transfer", json={"namespace": "account-management/customers"})
    assert r.status_code == 200
    found = gl.projects.get("customer-success/accounts")
    assert (found.id, found.path_with_namespace) == (
        project.id,
        "account-management/customers/accounts",
    )
    assert [i.title for i in found.issues.list(get_all=True)] == ["kept"]
    assert http.get(f"/projects/{OLD}/issues/1").json()["title"] == "kept"
    assert http.post(f"/projects/{OLD}/issues", json={"title": "via old"}).status_code == 201
    assert http.get(f"/projects/{OLD}/members/all").status_code == 200


def test_old_path_finds_the_project_after_a_path_change(http: Http) -> None:
    """doc/api/projects.md "Edit a project": a new ``path`` leaves a redirect."""
    r = http.put(f"/projects/{OLD}", json={"path": "accounts-v2", "name": "Accounts v2"})
    assert r.json()["path_with_namespace"] == "customer-success/accounts-v2"
    assert http.get(f"/projects/{OLD}").json()["path_with_namespace"] == (
        "customer-success/accounts-v2"
    )
    # Groups are not looked up through redirects (ResourceLookup#lookup_group), and the
    # project listing shows the project once, at its new path.
    paths = [p["path_with_namespace"] for p in http.get("/projects").json()]
    assert paths == ["customer-success/accounts-v2"]


def test_a_new_project_at_the_old_path_takes_it_over(http: Http, gl: gitlab.Gitlab) -> None:
    """Route#delete_conflicting_redirects: creating a project at the old path removes the
    redirect; the moved project keeps its new path."""
    moved = http.put(f"/projects/{OLD}/transfer", json={"namespace": "account-management"})
    group = gl.groups.get("customer-success")
    created = http.post("/projects", json={"path": "accounts", "namespace_id": group.id})
    assert created.status_code == 201, created.text
    now = http.get(f"/projects/{OLD}").json()
    assert now["id"] == created.json()["id"] != moved.json()["id"]
    assert http.get(f"/projects/{moved.json()['id']}").json()["path_with_namespace"] == (
        "account-management/accounts"
    )


def test_moving_back_removes_the_redirect_of_the_path_it_takes(http: Http) -> None:
    """Moving to a path that is a redirect claims it; the path it leaves redirects."""
    first = http.put(f"/projects/{OLD}/transfer", json={"namespace": "account-management"})
    pid = first.json()["id"]
    back = http.put(f"/projects/{pid}/transfer", json={"namespace": "customer-success"})
    assert back.json()["path_with_namespace"] == "customer-success/accounts"
    assert http.get("/projects/account-management%2Faccounts").json()["id"] == pid
    assert http.get(f"/projects/{OLD}").json()["id"] == pid


def test_unknown_path_is_still_404(http: Http) -> None:
    assert http.get("/projects/customer-success%2Fnope").json() == {
        "message": "404 Project Not Found"
    }


def test_redirects_survive_save_and_load(tmp_path: Path) -> None:
    """The state file keeps the redirect routes."""
    sb = Sandbox.load(tmp_path / "s.json")
    sb.seed(groups=["elsewhere"], projects=[("cs/accounts", "private")])
    status, _, _ = sb.handle(
        "PUT",
        "/api/v4/projects/cs%2Faccounts/transfer",
        {"PRIVATE-TOKEN": "t", "Content-Type": "application/json"},
        b'{"namespace": "elsewhere"}',
    )
    assert status == 200
    sb.save()
    again = Sandbox.load(tmp_path / "s.json")
    status, _, body = again.handle(
        "GET", "/api/v4/projects/cs%2Faccounts", {"PRIVATE-TOKEN": "t"}, None
    )
    assert status == 200 and b'"path_with_namespace": "elsewhere/accounts"' in body
