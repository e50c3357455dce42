"""Repository commits, files and tree (doc/api/commits.md, doc/api/repository_files.md,
doc/api/repositories.md)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _commit(
    http: Http, actions: list[dict[str, Any]], branch: str = "main", message: str = "change"
) -> Any:
    return http.post(
        f"{P}/repository/commits",
        json={"branch": branch, "commit_message": message, "actions": actions},
    )


def _seed_files(http: Http) -> dict[str, Any]:
    r = _commit(
        http,
        [
            {"action": "create", "file_path": "README.md", "content": "# Accounts\n"},
            {"action": "create", "file_path": "docs/guide.md", "content": "guide\n"},
            {
                "action": "create",
                "file_path": "docs/deep/x.bin",
                "content": base64.b64encode(b"\x00\x01").decode(),
                "encoding": "base64",
            },
        ],
        message="Initial files",
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_commit_with_several_actions(http: Http) -> None:
    """doc/api/commits.md "Create a commit with multiple files and actions"."""
    first = _seed_files(http)
    assert first["title"] == "Initial files"
    assert first["parent_ids"] == []
    assert first["stats"]["additions"] == 3
    second = _commit(
        http,
        [
            {"action": "update", "file_path": "README.md", "content": "# Accounts v2\n"},
            {"action": "move", "file_path": "docs/manual.md", "previous_path": "docs/guide.md"},
            {"action": "delete", "file_path": "docs/deep/x.bin"},
        ],
    ).json()
    assert second["parent_ids"] == [first["id"]]
    tree = http.get(f"{P}/repository/tree", params={"recursive": "true"}).json()
    assert [(e["path"], e["type"]) for e in tree] == [
        ("docs", "tree"),
        ("README.md", "blob"),
        ("docs/manual.md", "blob"),
    ]
    moved = http.get(f"{P}/repository/files/docs%2Fmanual.md/raw", params={"ref": "main"})
    assert moved.text == "guide\n"
    commits = http.get(f"{P}/repository/commits").json()
    assert [c["id"] for c in commits] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"action": "create", "file_path": "README.md", "content": "x"},
            "A file with this name already exists",
        ),
        (
            {"action": "update", "file_path": "missing.md", "content": "x"},
            "A file with this name doesn't exist",
        ),
        ({"action": "delete", "file_path": "missing.md"}, "A file with this name doesn't exist"),
        (
            {"action": "move", "file_path": "new.md", "previous_path": "missing.md"},
            "A file with this name doesn't exist",
        ),
    ],
)
def test_commit_errors_and_all_or_nothing(http: Http, action: dict[str, Any], message: str) -> None:
    """doc/api/commits.md: a failing action fails the whole commit (400), nothing stored."""
    _seed_files(http)
    before = http.get(f"{P}/repository/commits").json()
    r = _commit(http, [{"action": "create", "file_path": "fresh.md", "content": "new"}, action])
    assert (r.status_code, r.json()) == (400, {"message": message})
    assert http.get(f"{P}/repository/commits").json() == before
    assert http.get(f"{P}/repository/files/fresh.md", params={"ref": "main"}).status_code == 404


def test_commit_parameter_validation(http: Http) -> None:
    """doc/api/commits.md: branch, commit_message and actions are required."""
    r = http.post(f"{P}/repository/commits", json={"branch": "main"})
    assert r.json() == {"error": "commit_message is missing, actions is missing"}
    r = _commit(http, [{"action": "rename", "file_path": "a"}])
    assert r.json() == {"error": "actions[0][action] does not have a valid value"}
    r = _commit(http, [{"action": "create"}])
    assert r.json() == {"error": "actions[0][file_path] is missing"}


def test_new_branch_needs_start_branch(http: Http) -> None:
    """doc/api/commits.md: ``start_branch`` to create a branch from another one."""
    _seed_files(http)
    r = _commit(http, [{"action": "create", "file_path": "b.md", "content": "b"}], branch="feature")
    assert r.status_code == 400
    r = http.post(
        f"{P}/repository/commits",
        json={
            "branch": "feature",
            "start_branch": "main",
            "commit_message": "b",
            "actions": [{"action": "create", "file_path": "b.md", "content": "b"}],
        },
    )
    assert r.status_code == 201
    assert http.get(f"{P}/repository/files/b.md", params={"ref": "feature"}).status_code == 200
    assert http.get(f"{P}/repository/files/b.md", params={"ref": "main"}).status_code == 404


def test_get_file_fields(http: Http) -> None:
    """doc/api/repository_files.md "Get file from repository"."""
    commit = _seed_files(http)
    r = http.get(f"{P}/repository/files/docs%2Fguide.md", params={"ref": "main"})
    body = r.json()
    assert body["file_name"] == "guide.md"
    assert body["file_path"] == "docs/guide.md"
    assert body["encoding"] == "base64"
    assert base64.b64decode(body["content"]) == b"guide\n"
    assert body["size"] == 6
    assert body["last_commit_id"] == commit["id"]
    assert body["commit_id"] == commit["id"]
    assert len(body["blob_id"]) == 40
    assert http.get(f"{P}/repository/files/docs%2Fguide.md").json() == {"error": "ref is missing"}
    binary = http.get(f"{P}/repository/files/docs%2Fdeep%2Fx.bin/raw", params={"ref": "main"})
    assert binary.content == b"\x00\x01"


def test_last_commit_id_only_moves_for_changed_files(http: Http) -> None:
    first = _seed_files(http)
    _commit(http, [{"action": "update", "file_path": "README.md", "content": "new\n"}])
    guide = http.get(f"{P}/repository/files/docs%2Fguide.md", params={"ref": "main"}).json()
    assert guide["last_commit_id"] == first["id"]


def test_blob_id_is_git_blob_sha(http: Http) -> None:
    """Git object ids: sha1("blob <len>\\0<content>") — same as ``git hash-object``."""
    import hashlib

    _seed_files(http)
    body = http.get(f"{P}/repository/files/README.md", params={"ref": "main"}).json()
    assert body["blob_id"] == hashlib.sha1(b"blob 11\0# Accounts\n").hexdigest()


def test_tree_path_and_pagination(http: Http) -> None:
    """doc/api/repositories.md "List repository tree": path, recursive, pagination;
    an empty repository has no tree (404)."""
    assert http.get(f"{P}/repository/tree").json() == {"message": "404 Tree Not Found"}
    _seed_files(http)
    top = http.get(f"{P}/repository/tree").json()
    assert [(e["name"], e["type"]) for e in top] == [("docs", "tree"), ("README.md", "blob")]
    docs = http.get(f"{P}/repository/tree", params={"path": "docs"}).json()
    assert [e["path"] for e in docs] == ["docs/deep", "docs/guide.md"]
    page = http.get(f"{P}/repository/tree", params={"recursive": "true", "per_page": 2})
    assert page.headers["x-total"] == "5"
    assert http.get(f"{P}/repository/tree", params={"path": "nothing"}).json() == []


def test_python_gitlab_commit_and_files(project: Any) -> None:
    """python-gitlab's commits.create / files.get / repository_tree on the sandbox."""
    project.commits.create(
        {
            "branch": "main",
            "commit_message": "init",
            "actions": [{"action": "create", "file_path": "a/b.txt", "content": "hello"}],
        }
    )
    assert project.files.get("a/b.txt", ref="main").decode() == b"hello"
    assert project.files.raw("a/b.txt", ref="main") == b"hello"
    names = [e["path"] for e in project.repository_tree(recursive=True, get_all=True)]
    assert names == ["a", "a/b.txt"]
    assert project.commits.list()[0].title == "init"
