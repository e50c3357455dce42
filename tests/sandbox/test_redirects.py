"""Old project paths after a transfer or a path change: a GET is redirected, any other
method is refused.

Sources: app/models/concerns/routable.rb (``find_by_full_path(path, follow_redirects:
true)``), app/models/route.rb (``create_redirect_for_old_path``,
``delete_conflicting_redirects``), lib/api/helpers.rb (``find_project!``,
``project_moved?``, ``url_with_project_id``: GitLab 16.7+ answers a GET by an old path
with 301 to ``/api/v4/projects/:id/...`` and any other method with 405 "Non GET methods
are not allowed for moved projects"), lib/api/api.rb (``rescue_from
MovedPermanentlyError``), spec/requests/api/files_spec.rb ("when a project is moved",
``it 'redirects to the new project location'``), doc/api/projects.md ("Transfer a
project", "Edit a project" ``path``).
"""

from __future__ import annotations

from pathlib import Path

import gitlab

from gl_csm.sandbox import Sandbox

from .conftest import Http

OLD = "customer-success%2Faccounts"


def test_old_path_finds_the_project_after_a_transfer(gl: gitlab.Gitlab, http: Http) -> None:
    """Every GET route taking ``:id`` redirects the old path to the moved project
    (python-gitlab and requests follow a 301 on GET); writes there are 405."""
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
    assert http.get(f"/projects/{OLD}/members/all").status_code == 200
    refused = http.post(f"/projects/{OLD}/issues", json={"title": "via old"})
    assert (refused.status_code, refused.json()) == (
        405,
        {"message": "Non GET methods are not allowed for moved projects"},
    )
    assert http.post(f"/projects/{project.id}/issues", json={"title": "by id"}).status_code == 201


def test_get_by_an_old_path_is_a_301_to_the_numeric_id(http: Http) -> None:
    """spec/requests/api/files_spec.rb, "when a project is moved", ``it 'redirects to the
    new project location'``: 301, ``Location`` = ``/api/v4/projects/:id`` + the rest of
    the route (still encoded), query kept (``url_with_project_id`` builds a Rack URL)."""
    pid = http.put(f"/projects/{OLD}/transfer", json={"namespace": "account-management"}).json()[
        "id"
    ]
    r = http.get(f"/projects/{OLD}/issues?state=opened&per_page=5", allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"] == (
        f"https://sandbox.test/api/v4/projects/{pid}/issues?state=opened&per_page=5"
    )
    assert r.text == f"This resource has been moved permanently to {r.headers['Location']}"
    r = http.get(f"/projects/{OLD}/repository/files/a%2Fb.md?ref=main", allow_redirects=False)
    assert r.headers["Location"].startswith(
        f"https://sandbox.test/api/v4/projects/{pid}/repository/files/a%2Fb.md"
    )


def test_every_other_method_on_an_old_path_is_405(http: Http) -> None:
    """lib/api/helpers.rb ``find_project!``: ``not_allowed!('Non GET methods are not
    allowed for moved projects') unless request.get?`` — HEAD, PUT, POST and DELETE
    alike, and nothing is written."""
    http.put(f"/projects/{OLD}", json={"path": "accounts-v2"})
    for method in ("PUT", "POST", "DELETE", "HEAD"):
        r = http.request(method, f"/projects/{OLD}/labels", json={"name": "x", "color": "#fff"})
        assert r.status_code == 405, method
    assert http.get("/projects/customer-success%2Faccounts-v2/labels").json() == []


def test_the_current_path_in_other_letters_is_not_moved(http: Http) -> None:
    """``project_moved?`` compares with ``full_path.casecmp?``: the project's own path in
    other capitals is not a moved project (no redirect, writes allowed)."""
    r = http.post("/projects/Customer-Success%2FAccounts/issues", json={"title": "caps"})
    assert r.status_code == 201


def test_old_path_finds_the_project_after_a_path_change(http: Http) -> None:
    """doc/api/projects.md "Edit a project": a new ``path`` leaves a redirect."""
    r = http.put(f"/projects/{OLD}", json={"path": "accounts-v2", "name": "Accounts v2"})
    assert r.json()["path_with_namespace"] == "customer-success/accounts-v2"
    assert http.put(f"/projects/{OLD}", json={"name": "again"}).status_code == 405
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
    status, headers, _ = again.handle(
        "GET", "/api/v4/projects/cs%2Faccounts", {"PRIVATE-TOKEN": "t"}, None
    )
    pid = again.store.project("elsewhere/accounts")["id"]
    assert (status, headers["Location"]) == (301, f"http://localhost/api/v4/projects/{pid}")
