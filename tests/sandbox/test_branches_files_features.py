"""Routes the independent clients use (tests/clients/): branches, protected branches,
repository files and project feature access levels."""

from __future__ import annotations

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _init(http: Http) -> None:
    r = http.post(
        f"{P}/repository/files/README.md",
        json={"branch": "main", "content": "# hi", "commit_message": "init"},
    )
    assert (r.status_code, r.json()) == (201, {"file_path": "README.md", "branch": "main"})


def test_repository_files(http: Http) -> None:
    """spec/requests/api/files_spec.rb "POST /projects/:id/repository/files/:file_path"
    (``it 'creates a new file in project repo'``: 201 with ``file_path`` and ``branch``),
    "PUT" (``it 'updates existing file in project repo'``), "DELETE" (``it 'deletes
    existing file in project repo'``: 204); ``it 'returns a 400 bad request if no
    mandatory params given'``."""
    _init(http)
    r = http.put(
        f"{P}/repository/files/README.md",
        json={"branch": "main", "content": "# changed", "commit_message": "edit"},
    )
    assert r.status_code == 200
    raw = http.get(f"{P}/repository/files/README.md/raw", params={"ref": "main"})
    assert raw.text == "# changed"
    assert http.post(f"{P}/repository/files/x.md", json={"branch": "main"}).status_code == 400
    r = http.delete(
        f"{P}/repository/files/README.md", json={"branch": "main", "commit_message": "rm"}
    )
    assert r.status_code == 204
    gone = http.get(f"{P}/repository/files/README.md", params={"ref": "main"})
    assert gone.status_code == 404


def test_create_and_delete_branches(http: Http) -> None:
    """spec/requests/api/branches_spec.rb "POST /projects/:id/repository/branches"
    (``it 'creates a new branch'``, ``it 'returns 400 if branch already exists'`` with
    ``Branch already exists``, ``it 'returns 400 if ref name is invalid'``) and "DELETE
    /projects/:id/repository/branches/:branch" (``it 'removes branch'`` 204, ``it
    'returns 404 if branch not exists'``)."""
    _init(http)
    r = http.post(f"{P}/repository/branches", json={"branch": "develop", "ref": "main"})
    assert (r.status_code, r.json()["name"], r.json()["protected"]) == (201, "develop", False)
    r = http.post(f"{P}/repository/branches", json={"branch": "develop", "ref": "main"})
    assert r.json() == {"message": "Branch already exists"}
    r = http.post(f"{P}/repository/branches", json={"branch": "x", "ref": "nope"})
    assert r.json() == {"message": "Invalid reference name: nope"}
    assert http.delete(f"{P}/repository/branches/develop").status_code == 204
    assert http.delete(f"{P}/repository/branches/develop").status_code == 404
    r = http.delete(f"{P}/repository/branches/main")
    assert r.json() == {"message": "The default branch of a project cannot be deleted."}


def test_protected_branches(http: Http) -> None:
    """spec/requests/api/protected_branches_spec.rb: the default branch is protected
    (Maintainers push and merge); "POST /projects/:id/protected_branches" ``it 'protects
    a single branch'`` (201), ``it 'returns a 409 error if the same branch is protected
    twice'``; "DELETE" ``it 'unprotects a single branch'`` (204), ``it 'returns 404 if
    branch does not exist'``."""
    _init(http)
    listed = http.get(f"{P}/protected_branches").json()
    assert [(b["name"], b["push_access_levels"][0]["access_level"]) for b in listed] == [
        ("main", 40)
    ]
    assert http.get(f"{P}/repository/branches/main").json()["protected"] is True
    assert http.delete(f"{P}/protected_branches/main").status_code == 204
    assert http.get(f"{P}/repository/branches/main").json()["protected"] is False
    r = http.post(
        f"{P}/protected_branches",
        json={"name": "main", "push_access_level": 0, "merge_access_level": 40},
    )
    body = r.json()
    assert r.status_code == 201
    assert body["push_access_levels"][0]["access_level_description"] == "No one"
    r = http.post(f"{P}/protected_branches", json={"name": "main"})
    assert (r.status_code, r.json()) == (409, {"message": "Protected branch 'main' already exists"})
    assert http.delete(f"{P}/protected_branches/nope").status_code == 404


def test_project_feature_access_levels(http: Http) -> None:
    """lib/api/entities/project.rb (``issues_access_level``, ``merge_requests_access_level``
    and the other ProjectFeature levels); doc/api/projects.md "Edit a project": values
    ``disabled``, ``private``, ``enabled``; ``issues_enabled`` is the boolean form."""
    project = http.get(P).json()
    assert (project["issues_access_level"], project["issues_enabled"]) == ("enabled", True)
    r = http.put(P, json={"merge_requests_access_level": "private", "issues_enabled": False})
    body = r.json()
    assert body["merge_requests_access_level"] == "private"
    assert (body["issues_access_level"], body["issues_enabled"]) == ("disabled", False)
    r = http.put(P, json={"wiki_access_level": "sometimes"})
    assert r.json() == {"error": "wiki_access_level does not have a valid value"}
