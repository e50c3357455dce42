"""Creating and editing merge requests through the API.

Sources: doc/api/merge_requests.md ("Create MR", "Update MR", "List project merge
requests" ``source_branch``/``target_branch``, "Get single MR changes",
"List merge request diffs"), lib/api/merge_requests.rb (``handle_merge_request_errors!``:
``:base`` errors 422, ``validate_branches`` 409), app/services/merge_requests/
build_service.rb (branch checks), app/models/merge_request.rb (``validate_branches``:
"Another open merge request already exists for this source branch").
"""

from __future__ import annotations

from typing import Any

import gitlab

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _commit(http: Http, branch: str, actions: list[dict[str, Any]], **extra: Any) -> None:
    r = http.post(
        f"{P}/repository/commits",
        json={"branch": branch, "commit_message": f"on {branch}", "actions": actions, **extra},
    )
    assert r.status_code == 201, r.text


def _two_branches(http: Http) -> None:
    _commit(
        http,
        "main",
        [
            {"action": "create", "file_path": "README.md", "content": "hello\nworld\n"},
            {"action": "create", "file_path": "old.txt", "content": "bye\n"},
        ],
    )
    _commit(
        http,
        "templates",
        [
            {"action": "update", "file_path": "README.md", "content": "hello\nthere\n"},
            {"action": "create", "file_path": "new.md", "content": "new\n"},
            {"action": "delete", "file_path": "old.txt"},
        ],
        start_branch="main",
    )


def test_create_mr_with_python_gitlab_and_read_its_changes(
    gl: gitlab.Gitlab, project: Any, http: Http
) -> None:
    """Create MR between two branches; its changes are the source branch's diff."""
    _two_branches(http)
    mr = project.mergerequests.create(
        {
            "source_branch": "templates",
            "target_branch": "main",
            "title": "Update templates",
            "description": "Preview please",
        }
    )
    assert (mr.iid, mr.state, mr.source_branch, mr.target_branch) == (
        1,
        "opened",
        "templates",
        "main",
    )
    assert mr.author["username"] == "gl-csm-bot"
    changes = {c["new_path"]: c for c in mr.changes()["changes"]}
    assert set(changes) == {"README.md", "new.md", "old.txt"}
    assert changes["README.md"]["diff"] == "@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"
    assert changes["new.md"]["new_file"] and changes["new.md"]["diff"] == "@@ -0,0 +1 @@\n+new\n"
    assert changes["old.txt"]["deleted_file"]
    diffs = http.get(f"{P}/merge_requests/1/diffs").json()
    assert [d["new_path"] for d in diffs] == ["README.md", "new.md", "old.txt"]
    # A later push to the source branch shows up, as GitLab refreshes the MR diff.
    _commit(http, "templates", [{"action": "create", "file_path": "more.md", "content": "x"}])
    assert len(http.get(f"{P}/merge_requests/1/diffs").json()) == 4


def test_second_open_mr_for_the_same_branches_is_409(http: Http) -> None:
    """MergeRequest#validate_branches -> ``conflict!``: 409 with the errors array."""
    _two_branches(http)
    body = {"source_branch": "templates", "target_branch": "main", "title": "t"}
    assert http.post(f"{P}/merge_requests", json=body).status_code == 201
    r = http.post(f"{P}/merge_requests", json=body)
    assert (r.status_code, r.json()) == (
        409,
        {"message": ["Another open merge request already exists for this source branch: !1"]},
    )
    # Once closed, a new one may be opened.
    http.put(f"{P}/merge_requests/1", json={"state_event": "close"})
    assert http.post(f"{P}/merge_requests", json=body).json()["iid"] == 2


def test_branch_errors_are_422_and_missing_params_400(http: Http) -> None:
    """BuildService#validate_branches (``:base`` -> 422); Grape's ``requires`` (400)."""
    _two_branches(http)
    r = http.post(
        f"{P}/merge_requests",
        json={"source_branch": "nope", "target_branch": "main", "title": "t"},
    )
    assert (r.status_code, r.json()) == (422, {"message": ['Source branch "nope" does not exist']})
    r = http.post(
        f"{P}/merge_requests",
        json={"source_branch": "main", "target_branch": "main", "title": "t"},
    )
    assert r.json() == {"message": ["You must select different branches"]}
    r = http.post(f"{P}/merge_requests", json={"source_branch": "templates"})
    assert (r.status_code, r.json()) == (
        400,
        {"error": "target_branch is missing, title is missing"},
    )
    assert http.get(f"{P}/merge_requests").json() == []


def test_list_by_branch_get_and_update(http: Http) -> None:
    """List filters ``source_branch``/``target_branch``; PUT title and description."""
    _two_branches(http)
    http.post(
        f"{P}/merge_requests",
        json={"source_branch": "templates", "target_branch": "main", "title": "first"},
    )
    found = http.get(f"{P}/merge_requests", params={"source_branch": "templates"}).json()
    assert [m["iid"] for m in found] == [1]
    assert http.get(f"{P}/merge_requests", params={"source_branch": "other"}).json() == []
    r = http.put(f"{P}/merge_requests/1", json={"title": "Renamed", "description": "Now with text"})
    assert (r.json()["title"], r.json()["description"]) == ("Renamed", "Now with text")
    got = http.get(f"{P}/merge_requests/1").json()
    assert got["title"] == "Renamed"
    notes = http.get(f"{P}/merge_requests/1/notes").json()
    assert any("changed title" in n["body"] for n in notes)
    r = http.put(f"{P}/merge_requests/1", json={})
    assert r.status_code == 400


def test_mr_search_is_ilike_with_three_characters(http: Http) -> None:
    """Merge requests are not full-text indexed: ``Issuable.full_search`` (ILIKE, every
    term of 3+ characters a substring; shorter queries must equal the whole column)."""
    _two_branches(http)
    http.post(
        f"{P}/merge_requests",
        json={
            "source_branch": "templates",
            "target_branch": "main",
            "title": "Update templates",
            "description": "<!-- gl-csm:registry-updates -->",
        },
    )

    def found(search: str, **extra: str) -> list[int]:
        answer = http.get(f"{P}/merge_requests", params={"search": search, **extra}).json()
        return [m["iid"] for m in answer]

    assert found("plates upd") == [1]  # substrings, any order
    assert found("gl-csm:registry-updates", **{"in": "description"}) == [1]
    assert found("gl-csm:registry-updates", **{"in": "title"}) == []
    assert found("up") == []  # under 3 characters: the whole title must equal it
    assert found("update templates") == [1]
