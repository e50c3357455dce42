"""Merge requests, read side (doc/api/merge_requests.md).

The bot only reads merge requests (template reviews) and comments on them, so
merge requests are created by tests through ``Sandbox.create_merge_request``;
the API serves them, their changes/diffs, notes and label events.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import not_found
from gl_csm.sandbox.issuables import new_issuable
from gl_csm.sandbox.issues import label_event, today
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store


def create_merge_request(
    store: Store,
    project: Record,
    *,
    title: str,
    author_id: int,
    changes: list[dict[str, Any]],
    iid: int | None = None,
    description: str = "",
    source_branch: str | None = None,
    target_branch: str | None = None,
) -> Record:
    if iid is not None:
        if iid in project["merge_requests"]:
            raise ValueError(f"merge request !{iid} already exists in {project['path']}")
        project["counters"]["mr_iid"] = iid - 1
    mr = new_issuable(store, project, "MergeRequest", title=title, author_id=author_id)
    # Later merge requests continue after the highest iid in use.
    project["counters"]["mr_iid"] = max(project["merge_requests"])
    mr["description"] = description
    mr["source_branch"] = source_branch or f"mr-{mr['iid']}"
    mr["target_branch"] = target_branch or project["default_branch"]
    mr["sha"] = hashlib.sha1(f"mr:{project['id']}:{mr['iid']}".encode()).hexdigest()
    mr["changes"] = [_change(c) for c in changes]
    return mr


def _change(change: dict[str, Any]) -> Record:
    old = change.get("old_path") or change.get("new_path") or ""
    new = change.get("new_path") or old
    return {
        "old_path": old,
        "new_path": new,
        "a_mode": change.get("a_mode", "100644"),
        "b_mode": change.get("b_mode", "100644"),
        "diff": change.get("diff", ""),
        "new_file": bool(change.get("new_file", False)),
        "renamed_file": bool(change.get("renamed_file", old != new)),
        "deleted_file": bool(change.get("deleted_file", False)),
        "generated_file": False,
    }


def _mr(store: Store, id: str, iid: str) -> tuple[Record, Record]:
    project = store.project(id)
    mr = project["merge_requests"].get(int(iid)) if iid.isdigit() else None
    if mr is None:
        raise not_found("Merge Request")
    return project, mr


def render(store: Store, project: Record, mr: Record, base: str) -> Record:
    return entities.issuable(store, project, "MergeRequest", mr, base, today(store))


@route("GET", "/projects/:id/merge_requests")
def list_mrs(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    items = sorted(project["merge_requests"].values(), key=lambda m: m["id"], reverse=True)
    state = req.choice("state", ("opened", "closed", "locked", "merged", "all"), "all")
    if state != "all":
        items = [m for m in items if m["state"] == state]
    iids = req.int_list("iids")
    if iids:
        items = [m for m in items if m["iid"] in iids]
    return paginate(req, [render(store, project, m, req.base_url) for m in items])


@route("GET", "/projects/:id/merge_requests/:iid")
def get_mr(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    project, mr = _mr(store, id, iid)
    return render(store, project, mr, req.base_url)


@route("GET", "/projects/:id/merge_requests/:iid/changes")
def get_mr_changes(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    project, mr = _mr(store, id, iid)
    out = render(store, project, mr, req.base_url)
    out["changes"] = [dict(c) for c in mr["changes"]]
    out["overflow"] = False
    out["changes_count"] = str(len(mr["changes"]))
    return out


@route("GET", "/projects/:id/merge_requests/:iid/diffs")
def list_mr_diffs(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    _, mr = _mr(store, id, iid)
    return paginate(req, [dict(c) for c in mr["changes"]])


@route("GET", "/projects/:id/merge_requests/:iid/resource_label_events")
def list_mr_label_events(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    _, mr = _mr(store, id, iid)
    return paginate(
        req, [label_event(store, "MergeRequest", mr, e, req.base_url) for e in mr["label_events"]]
    )
