"""Project issue boards and their lists (doc/api/boards.md).

What the edition allows, from GitLab's source:

* several boards per *project* are available on every tier (``Project#
  multiple_issue_boards_available?`` is true in app/models/project.rb); several boards
  per *group* need Premium (``multiple_group_issue_boards``);
* label lists are on every tier; assignee, milestone and iteration lists need Premium
  (ee/app/services/ee/boards/lists/create_service.rb answers "Assignee lists not
  available with your current license"); so do a board's scope fields (milestone,
  assignee, labels, weight: "Premium and Ultimate only" in doc/api/boards.md).

A new board gets the hidden ``backlog`` (Open) and ``closed`` lists
(app/services/boards/create_service.rb); the API shows only the movable lists
(``board.lists.destroyable``), positioned from 0 (Boards::Lists::BaseCreateService
``next_position``).
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import editions, entities
from gl_csm.sandbox.errors import ApiError, exactly_one_missing, forbidden, missing, not_found
from gl_csm.sandbox.labels_model import visible_labels
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

#: List types that need a Premium license, with GitLab's refusal (see module docstring).
_LICENSED_LISTS = {
    "milestone_id": "Milestone lists not available with your current license",
    "iteration_id": "Iteration lists not available with your current license",
    "assignee_id": "Assignee lists not available with your current license",
}
_SCOPE_FIELDS = ("assignee_id", "milestone_id", "labels", "weight")


def _boards(project: Record) -> list[Record]:
    return project.setdefault("boards", [])


def _label_of(store: Store, label_id: int | None) -> Record | None:
    if label_id is None:
        return None
    return store.labels.get(int(label_id))


def _list_entity(store: Store, item: Record) -> Record:
    label = _label_of(store, item.get("label_id"))
    return {
        "id": item["id"],
        "label": entities.label_basic(label) if label else None,
        "assignee": entities.user_basic(store, item.get("assignee_id"), "")
        if item.get("assignee_id")
        else None,
        "milestone": None,
        "list_type": item["list_type"],
        "position": item["position"],
        "max_issue_count": 0,
        "max_issue_weight": 0,
        "limit_metric": None,
    }


def _movable(board: Record) -> list[Record]:
    return sorted(
        (x for x in board["lists"] if x["list_type"] not in ("backlog", "closed")),
        key=lambda x: x["position"],
    )


def _board_entity(store: Store, project: Record, board: Record, base: str) -> Record:
    return {
        "id": board["id"],
        "name": board["name"],
        "hide_backlog_list": board["hide_backlog_list"],
        "hide_closed_list": board["hide_closed_list"],
        "project": {
            "id": project["id"],
            "name": project["name"],
            "path": project["path"],
            "path_with_namespace": store.project_path(project),
            "web_url": f"{base}/{store.project_path(project)}",
        },
        "group": None,
        "milestone": None,
        "assignee": None,
        "labels": [],
        "weight": None,
        "lists": [_list_entity(store, x) for x in _movable(board)],
    }


def _board(project: Record, board_id: str) -> Record:
    for board in _boards(project):
        if str(board["id"]) == board_id:
            return board
    raise not_found("Board")


@route("GET", "/projects/:id/boards")
def list_boards(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    items = [_board_entity(store, project, b, req.base_url) for b in _boards(project)]
    return paginate(req, items)


@route("GET", "/projects/:id/boards/:board_id")
def get_board(store: Store, req: ApiRequest, id: str, board_id: str) -> Any:
    project = store.project(id)
    return _board_entity(store, project, _board(project, board_id), req.base_url)


@route("POST", "/projects/:id/boards")
def post_board(store: Store, req: ApiRequest, id: str) -> Any:
    if req.job_token:
        raise forbidden()
    project = store.project(id)
    name = req.str("name")
    if not name:
        raise missing("name")
    board: Record = {
        "id": store.next_id("board"),
        "name": name,
        "hide_backlog_list": False,
        "hide_closed_list": False,
        "lists": [],
    }
    # Boards::CreateService: every new board gets its Open and Closed lists.
    for kind in ("backlog", "closed"):
        board["lists"].append(
            {"id": store.next_id("board_list"), "list_type": kind, "position": None}
        )
    _boards(project).append(board)
    return _board_entity(store, project, board, req.base_url)


@route("PUT", "/projects/:id/boards/:board_id")
def put_board(store: Store, req: ApiRequest, id: str, board_id: str) -> Any:
    project = store.project(id)
    board = _board(project, board_id)
    scoped = [k for k in _SCOPE_FIELDS if req.has(k)]
    if scoped and not editions.is_paid(store.edition):
        # On Free the API does not declare these parameters, so a board cannot be scoped:
        # refuse rather than pretend (the sandbox is never kinder than GitLab).
        raise ApiError(400, {"error": f"{scoped[0]} is not available on GitLab Free"})
    if req.has("name"):
        board["name"] = req.required_str("name")
    for key in ("hide_backlog_list", "hide_closed_list"):
        value = req.bool(key)
        if value is not None:
            board[key] = value
    return _board_entity(store, project, board, req.base_url)


@route("GET", "/projects/:id/boards/:board_id/lists")
def list_lists(store: Store, req: ApiRequest, id: str, board_id: str) -> Reply:
    project = store.project(id)
    board = _board(project, board_id)
    return paginate(req, [_list_entity(store, x) for x in _movable(board)])


@route("GET", "/projects/:id/boards/:board_id/lists/:list_id")
def get_list(store: Store, req: ApiRequest, id: str, board_id: str, list_id: str) -> Any:
    project = store.project(id)
    for item in _movable(_board(project, board_id)):
        if str(item["id"]) == list_id:
            return _list_entity(store, item)
    raise not_found("List")


@route("POST", "/projects/:id/boards/:board_id/lists")
def post_list(store: Store, req: ApiRequest, id: str, board_id: str) -> Any:
    if req.job_token:
        raise forbidden()
    project = store.project(id)
    board = _board(project, board_id)
    # Grape's exactly_one_of over the list types (lib/api/boards_responses.rb).
    types = ("label_id", *_LICENSED_LISTS)
    given = [k for k in types if req.has(k)]
    if not given:
        raise exactly_one_missing(*types)
    if len(given) > 1:
        raise ApiError(400, {"error": f"{', '.join(given)} are mutually exclusive"})
    kind = given[0]
    if kind != "label_id":
        if not editions.is_paid(store.edition):
            raise ApiError(400, {"error": _LICENSED_LISTS[kind]})
        if kind != "assignee_id":
            raise ApiError(400, {"error": f"{kind.split('_')[0].capitalize()} not found"})
        user_id = req.int("assignee_id", required=True)
        store.user(int(user_id or 0))
        if any(x.get("assignee_id") == user_id for x in board["lists"]):
            raise ApiError(400, {"error": "Assignee has already been taken"})
        return _append(store, board, {"list_type": "assignee", "assignee_id": user_id})
    label_id = req.int("label_id", required=True)
    if label_id not in {lb["id"] for lb in visible_labels(store, project)}:
        # lib/api/boards_responses.rb authorize_list_type_resource!
        raise ApiError(400, {"error": "Label not found!"})
    if any(x.get("label_id") == label_id for x in board["lists"]):
        # List model: label uniqueness per board.
        raise ApiError(400, {"error": "Label has already been taken"})
    return _append(store, board, {"list_type": "label", "label_id": label_id})


def _append(store: Store, board: Record, fields: Record) -> Record:
    positions = [x["position"] for x in _movable(board)]
    item = {
        "id": store.next_id("board_list"),
        "position": max(positions) + 1 if positions else 0,
        **fields,
    }
    board["lists"].append(item)
    return _list_entity(store, item)


def _list_item(project: Record, board_id: str, list_id: str) -> tuple[Record, Record]:
    board = _board(project, board_id)
    for item in _movable(board):
        if str(item["id"]) == list_id:
            return board, item
    raise not_found("List")


@route("PUT", "/projects/:id/boards/:board_id/lists/:list_id")
def put_list(store: Store, req: ApiRequest, id: str, board_id: str, list_id: str) -> Any:
    """Move a list (doc/api/boards.md "Reorder a list in a board"; ``position`` is
    required, lib/api/boards.rb): the others shift (Boards::Lists::MoveService)."""
    project = store.project(id)
    board, item = _list_item(project, board_id, list_id)
    position = req.int("position", required=True)
    assert position is not None
    ordered = [x for x in _movable(board) if x is not item]
    if position < 0 or position > len(ordered):
        raise ApiError(400, {"message": "400 Bad request - List could not be moved!"})
    ordered.insert(position, item)
    for index, x in enumerate(ordered):
        x["position"] = index
    return _list_entity(store, item)


@route("DELETE", "/projects/:id/boards/:board_id/lists/:list_id")
def delete_list(store: Store, req: ApiRequest, id: str, board_id: str, list_id: str) -> Reply:
    """204 (doc/api/boards.md "Delete a board list"; spec/requests/api/boards_spec.rb
    via boards_shared_examples ``it "deletes list if admin requests it"``); the lists
    after it move up."""
    project = store.project(id)
    board, item = _list_item(project, board_id, list_id)
    board["lists"].remove(item)
    for index, x in enumerate(_movable(board)):
        x["position"] = index
    return no_content()
