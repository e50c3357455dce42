"""Project milestones (doc/api/milestones.md).

A duplicate title answers 400 ``Failed to create milestone {:title=>[...]}``
(lib/api/milestone_responses.rb with the Milestone model's title uniqueness
validation, which also covers the parent group's milestones); so does a due date not
after the start date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, bad_request, forbidden, not_found, ruby_errors
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

_TAKEN = "already being used for another group or project milestone."


def _today(store: Store) -> dt.date:
    return store.clock().date()


def _render(store: Store, project: Record, ms: Record, base: str) -> Record:
    return entities.milestone(store, project, ms, base, _today(store))


def check_dates(start: str | None, due: str | None, action: str) -> None:
    """Timebox#start_date_should_be_less_than_due_date: with both dates set, the due date
    must be after the start date, equal dates are refused too
    (app/models/concerns/timebox.rb); rendered by lib/api/milestone_responses.rb."""
    if start and due and due <= start:
        errors = {"due_date": ["must be greater than start date"]}
        raise bad_request(f"Failed to {action} milestone {ruby_errors(errors)}")


def matches(req: ApiRequest, ms: Record) -> bool:
    """``title`` (exact, case-sensitive) and ``search`` (title or description,
    case-insensitive) of lib/api/milestone_responses.rb ``list_params``."""
    title = req.str("title")
    if title is not None and ms["title"] != title:
        return False
    search = (req.str("search") or "").lower()
    return (
        not search
        or search in ms["title"].lower()
        or search in (ms.get("description") or "").lower()
    )


@route("GET", "/projects/:id/milestones")
def list_milestones(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    items = list(project["milestones"])
    state = req.choice("state", ("active", "closed", "all"), "all")
    if state != "all":
        items = [m for m in items if m["state"] == state]
    items = [m for m in items if matches(req, m)]
    iids = req.int_list("iids")
    if iids:
        items = [m for m in items if m["iid"] in iids]
    # MilestonesFinder orders by due date (nulls last), then title.
    items.sort(key=lambda m: (m.get("due_date") is None, m.get("due_date") or "", m["title"]))
    return paginate(req, items, lambda m: _render(store, project, m, req.base_url))


def _milestone(project: Record, milestone_id: str) -> Record:
    for ms in project["milestones"]:
        if str(ms["id"]) == milestone_id:
            return ms
    raise not_found("Milestone")


@route("GET", "/projects/:id/milestones/:milestone_id")
def get_milestone(store: Store, req: ApiRequest, id: str, milestone_id: str) -> Any:
    project = store.project(id)
    return _render(store, project, _milestone(project, milestone_id), req.base_url)


@route("POST", "/projects/:id/milestones")
def post_milestone(store: Store, req: ApiRequest, id: str) -> Any:
    if req.job_token:
        raise forbidden()
    project = store.project(id)
    title = req.required_str("title")
    group = store.namespaces[project["namespace_id"]]
    if any(m["title"] == title for m in [*project["milestones"], *(group.get("milestones") or [])]):
        raise bad_request(f"Failed to create milestone {ruby_errors({'title': [_TAKEN]})}")
    counters = project["counters"]
    counters["milestone_iid"] = counters.get("milestone_iid", 0) + 1
    ms = new_milestone(store, req, counters["milestone_iid"], title)
    project["milestones"].append(ms)
    return _render(store, project, ms, req.base_url)


def new_milestone(store: Store, req: ApiRequest, iid: int, title: str) -> Record:
    """A created milestone, a project's or a group's (its dates checked by
    :func:`check_dates`); the caller gives the iid its owner counts."""
    _, due = req.date("due_date")
    _, start = req.date("start_date")
    check_dates(start, due, "create")
    now = store.now()
    return {
        "id": store.next_id("milestone"),
        "iid": iid,
        "title": title,
        # Never given: null (milestones_shared_examples.rb 'creates a new milestone').
        "description": req.str("description"),
        "state": "active",
        "due_date": due,
        "start_date": start,
        "created_at": now,
        "updated_at": now,
    }


@route("PUT", "/projects/:id/milestones/:milestone_id")
def put_milestone(store: Store, req: ApiRequest, id: str, milestone_id: str) -> Any:
    project = store.project(id)
    ms = _milestone(project, milestone_id)
    keys = ("title", "description", "start_date", "due_date", "state_event")
    if not any(req.has(k) for k in keys):
        raise ApiError(
            400,
            {
                "error": "title, description, start_date, due_date, state_event "
                "are missing, at least one parameter must be provided"
            },
        )
    if req.has("title"):
        title = req.required_str("title")
        if any(m["title"] == title and m is not ms for m in project["milestones"]):
            raise bad_request(f"Failed to update milestone {ruby_errors({'title': [_TAKEN]})}")
        ms["title"] = title
    if req.has("description"):
        ms["description"] = req.str("description")
    dates = {k: ms.get(k) for k in ("due_date", "start_date")}
    for key in dates:
        given, value = req.date(key)
        if given:
            dates[key] = value
    check_dates(dates["start_date"], dates["due_date"], "update")
    ms.update(dates)
    event = req.choice("state_event", ("close", "activate"))
    if event:
        ms["state"] = "closed" if event == "close" else "active"
    ms["updated_at"] = store.now()
    return _render(store, project, ms, req.base_url)


@route("DELETE", "/projects/:id/milestones/:milestone_id")
def delete_milestone(store: Store, req: ApiRequest, id: str, milestone_id: str) -> Reply:
    """204 (spec/requests/api/project_milestones_spec.rb "DELETE
    /projects/:id/milestones/:milestone_id": ``it 'deletes the milestone when the user
    has developer access to the project'``; 404 ``Milestone Not Found``); its issues
    keep no milestone (Milestones::DestroyService)."""
    project = store.project(id)
    ms = _milestone(project, milestone_id)
    project["milestones"].remove(ms)
    for _, item in store.iter_issuables(project):
        if item.get("milestone_id") == ms["id"]:
            item["milestone_id"] = None
    return no_content()


@route("GET", "/projects/:id/milestones/:milestone_id/issues")
def milestone_issues(store: Store, req: ApiRequest, id: str, milestone_id: str) -> Reply:
    """The milestone's issues (doc/api/milestones.md "Get all issues assigned to a single
    milestone"; lib/api/milestone_responses.rb ``milestone_issuables_for``: ordered by
    ``label_priority``, then id — here by id, as no label priorities are set)."""
    from gl_csm.sandbox.issues import render

    project = store.project(id)
    ms = _milestone(project, milestone_id)
    issues = sorted(
        (i for i in project["issues"].values() if i.get("milestone_id") == ms["id"]),
        key=lambda i: i["id"],
    )
    return paginate(req, issues, lambda i: render(store, project, i, req.base_url))
