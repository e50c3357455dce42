"""Project issue boards (doc/api/boards.md; app/services/boards/create_service.rb;
lib/api/boards_responses.rb; ee/app/services/ee/boards/lists/create_service.rb)."""

from __future__ import annotations

import gitlab
import pytest

from gl_csm.sandbox import Sandbox

from .conftest import Http

P = "/projects/customer-success%2Faccounts"
G = "/groups/customer-success"


def _label(http: Http, name: str, where: str = P) -> int:
    r = http.post(f"{where}/labels", json={"name": name, "color": "#dd2b0e"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_create_board_and_label_lists(http: Http) -> None:
    """doc/api/boards.md "Create an issue board", "Create a board list", "List board lists
    in a project issue board": the Open and Closed lists are not listed; label lists are
    positioned in creation order from 0."""
    assert http.get(f"{P}/boards").json() == []
    r = http.post(f"{P}/boards", json={"name": "Portfolio health"})
    assert r.status_code == 201
    board = r.json()
    assert (board["name"], board["lists"]) == ("Portfolio health", [])
    red = _label(http, "health::red")
    green = _label(http, "health::green", G)  # a group label is available to the project
    for label_id in (red, green):
        r = http.post(f"{P}/boards/{board['id']}/lists", json={"label_id": label_id})
        assert r.status_code == 201, r.text
    lists = http.get(f"{P}/boards/{board['id']}/lists").json()
    assert [(x["label"]["name"], x["position"]) for x in lists] == [
        ("health::red", 0),
        ("health::green", 1),
    ]
    listed = http.get(f"{P}/boards").json()
    assert [x["label"]["name"] for x in listed[0]["lists"]] == ["health::red", "health::green"]
    one = http.get(f"{P}/boards/{board['id']}/lists/{lists[0]['id']}")
    assert one.json()["label"]["name"] == "health::red"


def test_list_errors(http: Http) -> None:
    """lib/api/boards_responses.rb: unknown label 400 ``Label not found!``; the List model
    refuses a second list of one label; a missing type parameter is a Grape 400; an
    unknown board is ``404 Board Not Found``."""
    board = http.post(f"{P}/boards", json={"name": "b"}).json()
    lists = f"{P}/boards/{board['id']}/lists"
    r = http.post(lists, json={"label_id": 999})
    assert (r.status_code, r.json()) == (400, {"error": "Label not found!"})
    red = _label(http, "health::red")
    assert http.post(lists, json={"label_id": red}).status_code == 201
    r = http.post(lists, json={"label_id": red})
    assert (r.status_code, r.json()) == (400, {"error": "Label has already been taken"})
    r = http.post(lists, json={})
    assert r.status_code == 400 and "exactly one parameter" in r.json()["error"]
    r = http.get(f"{P}/boards/4242/lists")
    assert (r.status_code, r.json()) == (404, {"message": "404 Board Not Found"})
    r = http.post(f"{P}/boards", json={})
    assert (r.status_code, r.json()) == (400, {"error": "name is missing"})


def test_free_refuses_premium_lists_and_scopes(http: Http, sb: Sandbox) -> None:
    """ee/app/services/ee/boards/lists/create_service.rb: assignee and milestone lists
    need a license; doc/api/boards.md "Update an issue board": scope fields are Premium."""
    board = http.post(f"{P}/boards", json={"name": "b"}).json()
    alice = sb.store.user_by_username("alice")
    assert alice is not None
    r = http.post(f"{P}/boards/{board['id']}/lists", json={"assignee_id": alice["id"]})
    assert r.status_code == 400
    assert r.json() == {"error": "Assignee lists not available with your current license"}
    r = http.post(f"{P}/boards/{board['id']}/lists", json={"milestone_id": 1})
    assert r.json() == {"error": "Milestone lists not available with your current license"}
    r = http.put(f"{P}/boards/{board['id']}", json={"assignee_id": alice["id"]})
    assert r.status_code == 400
    r = http.put(f"{P}/boards/{board['id']}", json={"name": "renamed"})
    assert r.json()["name"] == "renamed"


def test_several_project_boards_on_free(http: Http) -> None:
    """app/models/project.rb ``multiple_issue_boards_available?`` is true: a project may
    have several boards on every tier."""
    for name in ("one", "two"):
        assert http.post(f"{P}/boards", json={"name": name}).status_code == 201
    assert [b["name"] for b in http.get(f"{P}/boards").json()] == ["one", "two"]


def test_python_gitlab_boards(project: gitlab.v4.objects.Project, http: Http) -> None:
    """python-gitlab's ProjectBoardManager and ProjectBoardListManager on the same routes."""
    red = _label(http, "health::red")
    board = project.boards.create({"name": "Portfolio health"})
    board.lists.create({"label_id": red})
    got = project.boards.get(board.id)
    assert [x.label["name"] for x in got.lists.list()] == ["health::red"]
    with pytest.raises(gitlab.GitlabCreateError):
        board.lists.create({"label_id": red})


def test_premium_allows_assignee_lists() -> None:
    """ee/app/services/ee/boards/lists/create_service.rb: with the license, an assignee
    list is created (and only once per user)."""
    sandbox = Sandbox(edition="premium")
    sandbox.seed(projects=[("customer-success/accounts", "private")], users=["alice"])
    http = Http(sandbox)
    board = http.post(f"{P}/boards", json={"name": "b"}).json()
    alice = sandbox.store.user_by_username("alice")
    assert alice is not None
    r = http.post(f"{P}/boards/{board['id']}/lists", json={"assignee_id": alice["id"]})
    assert r.status_code == 201 and r.json()["assignee"]["username"] == "alice"
    r = http.post(f"{P}/boards/{board['id']}/lists", json={"assignee_id": alice["id"]})
    assert r.status_code == 400
