"""Groups (doc/api/groups.md)."""

from __future__ import annotations

import re
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, bad_request, forbidden, missing, not_found, ruby_errors
from gl_csm.sandbox.members import add_member
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.permissions import can_read_project
from gl_csm.sandbox.policy import (
    OWNER,
    can_read_group,
    group_access_level,
    is_admin,
    require_group,
)
from gl_csm.sandbox.project_filters import filter_projects
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store
from gl_csm.sandbox.visibility import VISIBILITIES, visibility_rank

_PATH = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.\-]*$")


def create_group(
    store: Store,
    *,
    name: str,
    path: str,
    parent: Record | None,
    actor_id: int,
    visibility: str = "private",
    description: str = "",
) -> Record:
    """Create a group; the creator becomes its Owner (doc/api/groups.md, "Create a group")."""
    errors: dict[str, list[str]] = {}
    if not _PATH.match(path) or path.endswith((".git", ".atom", ".")):
        errors["path"] = [
            "can contain only letters, digits, '_', '-' and '.'. Cannot start "
            "with '-', end in '.git' or end in '.atom'"
        ]
    parent_id = parent["id"] if parent else None
    for ns in store.namespaces.values():
        if ns.get("parent_id") == parent_id and ns["path"].lower() == path.lower():
            errors["path"] = ["has already been taken"]
    if parent and visibility_rank(visibility) > visibility_rank(parent["visibility"]):
        errors["visibility_level"] = [
            f"{visibility} is not allowed since the parent group has a "
            f"{parent['visibility']} visibility."
        ]
    if errors:
        raise bad_request(f"Failed to save group {ruby_errors(errors)}")
    group = {
        "id": store.next_id("namespace"),
        "kind": "group",
        "name": name,
        "path": path,
        "parent_id": parent_id,
        "description": description,
        "visibility": visibility,
        "members": [],
        "created_at": store.now(),
    }
    store.namespaces[group["id"]] = group
    store.claim_path(store.full_path(group))
    add_member(store, group, actor_id, 50, actor_id)
    return group


@route("GET", "/groups")
def list_groups(store: Store, req: ApiRequest) -> Reply:
    """The groups the user can read (GroupsFinder; policy.py ``can_read_group``)."""
    groups = [
        n
        for n in store.namespaces.values()
        if n["kind"] == "group" and can_read_group(store, n, req.user_id)
    ]
    search = req.str("search")
    if search:
        s = search.lower()
        groups = [g for g in groups if s in g["name"].lower() or s in g["path"].lower()]
    if req.bool("top_level_only"):
        groups = [g for g in groups if not g.get("parent_id")]
    order = req.choice("order_by", ("name", "path", "id", "similarity"), "name")
    key = "name" if order == "similarity" else order
    groups.sort(key=lambda g: store.full_name(g) if key == "name" else g[key])
    if req.choice("sort", ("asc", "desc"), "asc") == "desc":
        groups.reverse()
    return paginate(req, groups, lambda g: entities.group(store, g, req.base_url))


@route("GET", "/groups/:id")
def get_group(store: Store, req: ApiRequest, id: str) -> Any:
    """GroupDetail; the projects listed are those the user can read."""
    group = store.group(id)
    admin = is_admin(store, req.user_id) or group_access_level(store, group, req.user_id) >= OWNER
    out = entities.group_detail(
        store,
        group,
        req.base_url,
        admin=admin,
        with_projects=bool(req.bool("with_projects", True)),
    )
    if "projects" in out:
        readable = {
            p["id"] for p in store.projects.values() if can_read_project(store, p, req.user_id)
        }
        out["projects"] = [p for p in out["projects"] if p["id"] in readable]
    return out


@route("GET", "/groups/:id/subgroups")
def list_subgroups(store: Store, req: ApiRequest, id: str) -> Reply:
    group = store.group(id)
    children = [
        n
        for n in store.namespaces.values()
        if n["kind"] == "group"
        and n.get("parent_id") == group["id"]
        and can_read_group(store, n, req.user_id)
    ]
    children.sort(key=lambda g: g["name"])
    return paginate(req, children, lambda g: entities.group(store, g, req.base_url))


@route("POST", "/groups")
def post_group(store: Store, req: ApiRequest) -> Any:
    if req.job_token:
        raise forbidden()
    absent = [n for n in ("name", "path") if not req.str(n)]
    if absent:
        raise missing(*absent)
    parent = None
    parent_id = req.int("parent_id")
    if parent_id:
        parent = store.namespaces.get(parent_id)
        if parent is None or parent["kind"] != "group":
            raise not_found("Group")
        # GroupPolicy ``create_subgroup``: Owner of the parent (default setting).
        require_group(store, parent, req.user_id, OWNER)
    visibility = req.choice("visibility", VISIBILITIES, "private")
    assert visibility is not None
    group = create_group(
        store,
        name=req.required_str("name"),
        path=req.required_str("path"),
        parent=parent,
        actor_id=req.user_id,
        visibility=visibility,
        description=req.str("description", "") or "",
    )
    # lib/api/groups.rb "POST /groups": Entities::GroupDetail, without projects.
    return entities.group_detail(store, group, req.base_url, admin=True, with_projects=False)


@route("PUT", "/groups/:id")
def put_group(store: Store, req: ApiRequest, id: str) -> Any:
    group = store.group(id)
    if req.has("name"):
        group["name"] = req.required_str("name")
    if req.has("description"):
        group["description"] = req.str("description") or ""
    if req.has("visibility"):
        group["visibility"] = req.choice("visibility", VISIBILITIES)
    # lib/api/groups.rb: ``present_group_details(params, group, with_projects: true)``.
    return get_group(store, req, str(group["id"]))


@route("GET", "/groups/:id/projects")
def group_projects(store: Store, req: ApiRequest, id: str) -> Reply:
    """Projects of a group; ``include_subgroups`` adds descendants' projects."""
    group = store.group(id)
    spaces = store.descendants(group) if req.bool("include_subgroups") else [group]
    ids = {n["id"] for n in spaces}
    projects = [
        p
        for p in store.projects.values()
        if p["namespace_id"] in ids and can_read_project(store, p, req.user_id)
    ]
    projects = filter_projects(store, req, projects)
    return paginate(req, projects, lambda p: entities.project(store, p, req.base_url))


def ensure_group_path(
    store: Store, full_path: str, actor_id: int, visibility: str = "private"
) -> Record:
    """Create every missing group along ``a/b/c`` (used by ``Sandbox.seed``)."""
    parent: Record | None = None
    for depth, part in enumerate(full_path.strip("/").split("/")):
        existing = store.namespace_by_path("/".join(full_path.strip("/").split("/")[: depth + 1]))
        if existing is not None:
            if existing["kind"] != "group":
                raise ApiError(400, {"message": f"{full_path}: {part} is a user namespace"})
            parent = existing
            continue
        name = part.replace("-", " ").replace("_", " ").title()
        parent = create_group(
            store, name=name, path=part, parent=parent, actor_id=actor_id, visibility=visibility
        )
    assert parent is not None
    return parent
