"""Merge requests (doc/api/merge_requests.md).

Created through the API (``POST /projects/:id/merge_requests``, between two branches
of the project: its changes are the diff from the merge base to the source branch,
recomputed on read as GitLab does after a push) or by tests through
``Sandbox.create_merge_request`` with a given diff. Served with their changes/diffs,
notes and label events; ``PUT`` edits title, description, labels, state.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, at_least_one_missing, bad_request, missing, not_found
from gl_csm.sandbox.fulltext import search_filter
from gl_csm.sandbox.issuables import (
    MAX_TITLE,
    UPDATE_KEYS,
    apply_update,
    mentionable_text,
    new_issuable,
    record_mentions,
)
from gl_csm.sandbox.issues import common_params, label_event, today, writable
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


def _ancestors(repo: Record, sha: str | None) -> list[str]:
    """The commit and its ancestors, nearest first (breadth first over parent_ids)."""
    out: list[str] = []
    queue = [sha] if sha else []
    while queue:
        current = queue.pop(0)
        if current in out or current not in repo["commits"]:
            continue
        out.append(current)
        queue.extend(repo["commits"][current]["parent_ids"])
    return out


def branch_changes(project: Record, source: str, target: str) -> list[Record]:
    """The diff of ``source`` against its merge base with ``target`` (what GitLab shows)."""
    repo = project["repository"]
    head = repo["branches"][source]
    target_line = set(_ancestors(repo, repo["branches"][target]["head"]))
    base_sha = next((c for c in _ancestors(repo, head["head"]) if c in target_line), None)
    base_files = repo["commits"][base_sha]["tree"] if base_sha else {}
    changes: list[Record] = []
    for path in sorted(set(base_files) | set(head["files"])):
        old, new = base_files.get(path), head["files"].get(path)
        if old is not None and new is not None and old["content"] == new["content"]:
            continue
        old_text = _text(old)
        new_text = _text(new)
        diff = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="")
        body = "".join(line + "\n" for line in list(diff)[2:])
        changes.append(
            _change(
                {
                    "old_path": path,
                    "new_path": path,
                    "diff": body,
                    "new_file": old is None,
                    "deleted_file": new is None,
                    "renamed_file": False,
                }
            )
        )
    return changes


def _text(entry: Record | None) -> str:
    if entry is None:
        return ""
    return base64.b64decode(entry["content"]).decode("utf-8", errors="replace")


def changes_of(project: Record, mr: Record) -> list[Record]:
    branches = project["repository"]["branches"]
    if (
        mr.get("from_branches")
        and mr["source_branch"] in branches
        and (mr["target_branch"] in branches)
    ):
        return branch_changes(project, mr["source_branch"], mr["target_branch"])
    return [dict(c) for c in mr["changes"]]


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


def conflict_list(message: str) -> ApiError:
    """``conflict!(errors[:validate_branches])``: the message is the errors array."""
    return ApiError(409, {"message": [message]})


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
    for key in ("source_branch", "target_branch"):
        wanted = req.str(key)
        if wanted:
            items = [m for m in items if m[key] == wanted]
    search = req.str("search")
    if search:
        # Merge requests have no full-text index: Issuable.full_search, ILIKE per term of
        # 3+ characters (lib/gitlab/sql/pattern.rb); `search="none"` empties it too.
        matcher = search_filter(search, req.list("in") or [], ilike=True)
        items = [
            m
            for m in items
            if store.search_mode != "none" and matcher(m["title"], m["description"])
        ]
    return paginate(req, items, lambda m: render(store, project, m, req.base_url))


@route("POST", "/projects/:id/merge_requests")
def post_mr(store: Store, req: ApiRequest, id: str) -> Any:
    """doc/api/merge_requests.md "Create MR". Errors as lib/api/merge_requests.rb
    ``handle_merge_request_errors!``: MergeRequests::BuildService's branch checks are
    ``:base`` errors (422); an open MR for the same branches is ``validate_branches``
    (409, MergeRequest#validate_branches)."""
    project = store.project(id)
    writable(project, req)
    absent = [k for k in ("source_branch", "target_branch", "title") if not req.has(k)]
    if absent:
        raise missing(*absent)
    source = req.required_str("source_branch")
    target = req.required_str("target_branch")
    title = req.required_str("title").strip()
    branches = project["repository"]["branches"]
    errors = []
    if source == target:
        errors.append("You must select different branches")
    if source not in branches:
        errors.append(f'Source branch "{source}" does not exist')
    if target not in branches:
        errors.append(f'Target branch "{target}" does not exist')
    if errors:
        raise ApiError(422, {"message": errors})
    for other in project["merge_requests"].values():
        if (other["source_branch"], other["target_branch"]) == (source, target) and other[
            "state"
        ] == "opened":
            raise conflict_list(
                f"Another open merge request already exists for this source branch: !{other['iid']}"
            )
    if len(title) > MAX_TITLE:
        raise bad_request({"title": [f"is too long (maximum is {MAX_TITLE} characters)"]})
    params = common_params(store, project, req, metadata_level=30)
    params.pop("state_event", None)
    params.pop("title", None)
    mr = new_issuable(store, project, "MergeRequest", title=title, author_id=req.user_id)
    mr.update(source_branch=source, target_branch=target, changes=[], from_branches=True)
    mr["sha"] = branches[source]["head"]
    description = req.str("description")
    if description:
        mr["description"] = description
        record_mentions(store, project, "MergeRequest", mr, mentionable_text(mr), "description")
    apply_update(store, project, "MergeRequest", mr, params, req.user_id, system_notes=False)
    mr["updated_at"] = mr["created_at"]
    return render(store, project, mr, req.base_url)


_MR_UPDATE_KEYS = (*UPDATE_KEYS, "target_branch")


@route("PUT", "/projects/:id/merge_requests/:iid")
def put_mr(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    """doc/api/merge_requests.md "Update MR": at least one parameter."""
    project, mr = _mr(store, id, iid)
    writable(project, req)
    if not any(req.has(k) for k in _MR_UPDATE_KEYS):
        raise at_least_one_missing(*_MR_UPDATE_KEYS)
    params = common_params(store, project, req, metadata_level=30)
    if req.has("description"):
        params["description"] = req.str("description") or ""
    if req.has("target_branch"):
        target = req.required_str("target_branch")
        if target not in project["repository"]["branches"]:
            raise ApiError(422, {"message": [f'Target branch "{target}" does not exist']})
        mr["target_branch"] = target
    apply_update(store, project, "MergeRequest", mr, params, req.user_id)
    return render(store, project, mr, req.base_url)


@route("GET", "/projects/:id/merge_requests/:iid")
def get_mr(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    project, mr = _mr(store, id, iid)
    return render(store, project, mr, req.base_url)


@route("GET", "/projects/:id/merge_requests/:iid/changes")
def get_mr_changes(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    project, mr = _mr(store, id, iid)
    out = render(store, project, mr, req.base_url)
    changes = changes_of(project, mr)
    out["changes"] = changes
    out["overflow"] = False
    out["changes_count"] = str(len(changes))
    return out


@route("GET", "/projects/:id/merge_requests/:iid/diffs")
def list_mr_diffs(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    project, mr = _mr(store, id, iid)
    return paginate(req, changes_of(project, mr))


@route("GET", "/projects/:id/merge_requests/:iid/resource_label_events")
def list_mr_label_events(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    _, mr = _mr(store, id, iid)
    return paginate(
        req, [label_event(store, "MergeRequest", mr, e, req.base_url) for e in mr["label_events"]]
    )
