"""Authentication, routing and error bodies."""

from __future__ import annotations

import gitlab
import pytest

from gl_csm.sandbox import Sandbox

from .conftest import Http


def test_401_without_token(http: Http) -> None:
    """doc/api/rest/troubleshooting.md: no token -> 401 ``{"message": "401 Unauthorized"}``."""
    r = http.get("/projects", token=False)
    assert r.status_code == 401
    assert r.json() == {"message": "401 Unauthorized"}
    assert http.get("/projects", token=False, headers={"PRIVATE-TOKEN": ""}).status_code == 401


@pytest.mark.parametrize(
    "header",
    [{"PRIVATE-TOKEN": "anything"}, {"Authorization": "Bearer oauth"}, {"JOB-TOKEN": "ci"}],
)
def test_any_token_is_the_bot_admin(http: Http, header: dict[str, str]) -> None:
    """doc/api/rest/authentication.md: private, OAuth and job tokens are accepted."""
    r = http.get("/user", token=False, headers=header)
    assert r.status_code == 200
    assert r.json()["username"] == "gl-csm-bot"
    assert r.json()["is_admin"] is True


def test_job_token_cannot_write(http: Http) -> None:
    """doc/ci/jobs/ci_job_token.md: CI_JOB_TOKEN cannot create issues -> 403."""
    r = http.post(
        "/projects/customer-success%2Faccounts/issues",
        token=False,
        headers={"JOB-TOKEN": "ci"},
        json={"title": "x"},
    )
    assert r.status_code == 403
    assert r.json() == {"message": "403 Forbidden"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/projects/nope%2Fnope", "404 Project Not Found"),
        ("/projects/99999", "404 Project Not Found"),
        ("/groups/nope", "404 Group Not Found"),
        ("/users/999", "404 User Not Found"),
        ("/projects/customer-success%2Faccounts/issues/42", "404 Issue Not Found"),
        ("/projects/customer-success%2Faccounts/labels/nope", "404 Label Not Found"),
        ("/projects/customer-success%2Faccounts/milestones/77", "404 Milestone Not Found"),
        ("/projects/customer-success%2Faccounts/merge_requests/5", "404 Merge Request Not Found"),
    ],
)
def test_404_bodies_name_the_resource(http: Http, path: str, message: str) -> None:
    """lib/api/helpers.rb not_found!: ``{"message": "404 <Resource> Not Found"}``."""
    r = http.get(path)
    assert r.status_code == 404
    assert r.json() == {"message": message}


def test_404_file_and_note(http: Http, project: object) -> None:
    """doc/api/repository_files.md and doc/api/notes.md: unknown file / note -> 404."""
    path = "/projects/customer-success%2Faccounts"
    http.post(
        f"{path}/repository/commits",
        json={
            "branch": "main",
            "commit_message": "init",
            "actions": [{"action": "create", "file_path": "a.md", "content": "a"}],
        },
    )
    assert http.get(f"{path}/repository/files/b.md", params={"ref": "main"}).json() == {
        "message": "404 File Not Found"
    }
    http.post(f"{path}/issues", json={"title": "t"})
    assert http.get(f"{path}/issues/1/notes/999").json() == {"message": "404 Note Not Found"}


def test_unknown_route_and_wrong_method(http: Http) -> None:
    """lib/api/api.rb catch-all: 404 ``{"error": "404 Not Found"}``; known path, other
    method: 405."""
    r = http.get("/no/such/route")
    assert (r.status_code, r.json()) == (404, {"error": "404 Not Found"})
    r = http.request("DELETE", "/projects/customer-success%2Faccounts/issues/1/notes")
    assert r.status_code == 405


def test_missing_required_parameter(http: Http) -> None:
    """doc/api/rest/_index.md (400 Bad Request): Grape's ``{"error": "title is missing"}``."""
    r = http.post("/projects/customer-success%2Faccounts/issues", json={"description": "d"})
    assert r.status_code == 400
    assert r.json() == {"error": "title is missing"}


def test_invalid_parameter_value(http: Http) -> None:
    """doc/api/issues.md: ``state`` takes opened|closed|all."""
    r = http.get("/projects/customer-success%2Faccounts/issues", params={"state": "weird"})
    assert r.status_code == 400
    assert r.json() == {"error": "state does not have a valid value"}


def test_python_gitlab_maps_errors(gl: gitlab.Gitlab) -> None:
    """python-gitlab raises GitlabGetError with the 404 message from doc/api/projects.md."""
    with pytest.raises(gitlab.GitlabGetError) as info:
        gl.projects.get("nope/nothing")
    assert info.value.response_code == 404
    assert "404 Project Not Found" in str(info.value)


def test_request_log_records_handled_requests(sb: Sandbox, http: Http) -> None:
    http.get("/projects/customer-success%2Faccounts")
    assert sb.request_log[-1] == ("GET", "/api/v4/projects/customer-success%2Faccounts")


def test_users_lookup(http: Http) -> None:
    """doc/api/users.md: ``GET /users?username=`` returns a list (exact, case-insensitive)."""
    found = http.get("/users", params={"username": "Alice"}).json()
    assert [u["username"] for u in found] == ["alice"]
    assert http.get("/users", params={"username": "nobody"}).json() == []
    uid = found[0]["id"]
    assert http.get(f"/users/{uid}").json()["username"] == "alice"
