"""The JSON state file: round trip, older files, corrupt files, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gl_csm.sandbox import Sandbox
from gl_csm.sandbox.store import FORMAT_VERSION

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _populate(http: Http) -> None:
    http.post(f"{P}/labels", json={"name": "health::green", "color": "#00ff00"})
    http.post(f"{P}/milestones", json={"title": "Q1"})
    http.post(
        f"{P}/repository/commits",
        json={
            "branch": "main",
            "commit_message": "init",
            "actions": [{"action": "create", "file_path": "a.md", "content": "A"}],
        },
    )
    http.post(
        f"{P}/issues", json={"title": "t", "labels": "health::green,x", "description": "hi @alice"}
    )
    http.put(f"{P}/issues/1", json={"add_labels": "health::red"})
    http.post(f"{P}/issues/1/notes", json={"body": "note"})


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sandbox.json"
    sb = Sandbox.load(path)  # missing file: empty sandbox with a path
    sb.seed(projects=[("customer-success/accounts", "private")], users=["alice"])
    http = Http(sb)
    _populate(http)
    sb.create_merge_request(
        "customer-success/accounts",
        title="mr",
        changes=[{"old_path": "a", "new_path": "a", "diff": "d"}],
    )
    sb.save()
    doc = json.loads(path.read_text())
    assert doc["version"] == FORMAT_VERSION

    again = Sandbox.load(path)
    http2 = Http(again)
    for route in (
        "/projects",
        f"{P}/issues",
        f"{P}/labels",
        f"{P}/milestones",
        f"{P}/repository/tree",
        f"{P}/issues/1/notes",
        f"{P}/issues/1/resource_label_events",
        f"{P}/merge_requests/1/changes",
        "/users",
        "/groups",
    ):
        assert http2.get(route).json() == http.get(route).json(), route
    assert again.mentions == sb.mentions
    # Counters continue: new ids do not collide with loaded ones.
    new = http2.post(f"{P}/issues", json={"title": "next"}).json()
    assert (new["iid"], new["id"]) == (2, 2)
    assert not list(path.parent.glob("*.tmp"))


def test_seed_is_idempotent(tmp_path: Path) -> None:
    sb = Sandbox.load(tmp_path / "s.json")
    for _ in range(2):
        sb.seed(groups=["a/b"], projects=[("a/b/c", "private")], users=["u"])
    http = Http(sb)
    assert [p["path_with_namespace"] for p in http.get("/projects").json()] == ["a/b/c"]
    assert [u["username"] for u in http.get("/users").json()] == ["gl-csm-bot", "u"]


def test_older_file_without_newer_fields_loads(tmp_path: Path) -> None:
    """A file from an older run (no version, fewer keys) still loads and works."""
    path = tmp_path / "old.json"
    path.write_text(
        json.dumps(
            {
                "users": [{"id": 1, "username": "gl-csm-bot"}, {"id": 2, "username": "alice"}],
                "namespaces": [{"id": 10, "name": "CS", "path": "customer-success"}],
                "projects": [
                    {
                        "id": 5,
                        "name": "accounts",
                        "path": "accounts",
                        "namespace_id": 10,
                        "milestones": [{"id": 4, "title": "Q1"}],
                        "issues": [
                            {
                                "id": 3,
                                "iid": 1,
                                "title": "old",
                                "state": "opened",
                                "author_id": 1,
                                "created_at": "2024-01-01T00:00:00.000Z",
                                "updated_at": "2024-01-01T00:00:00.000Z",
                            }
                        ],
                    }
                ],
            }
        )
    )
    sb = Sandbox.load(path)
    http = Http(sb)
    assert http.get(f"{P}/issues/1").json()["title"] == "old"
    new = http.post(f"{P}/issues", json={"title": "new"}).json()
    assert new["iid"] == 2 and new["id"] != 3
    assert http.get(f"{P}/milestones").json()[0]["iid"] == 1
    assert http.post(f"{P}/milestones", json={"title": "Q2"}).json()["id"] == 5
    group = http.post("/groups", json={"name": "N", "path": "n"}).json()
    assert group["id"] not in (10, 1, 2)


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", '{"projects": [{"id": "x"}]}', '{"version": 999}']
)
def test_corrupt_file_is_a_clear_value_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="broken.json"):
        Sandbox.load(path)


def test_in_memory_sandbox_does_not_save(tmp_path: Path) -> None:
    sb = Sandbox()
    sb.save()  # no path: nothing to do, no error
    assert sb.path is None
