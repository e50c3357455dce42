"""The filters and order of a project listing, shared by ``GET /projects`` and
``GET /groups/:id/projects`` (doc/api/projects.md, doc/api/groups.md)."""

from __future__ import annotations

from gl_csm.sandbox.request import ApiRequest
from gl_csm.sandbox.store import Record, Store
from gl_csm.sandbox.visibility import VISIBILITIES


def filter_projects(store: Store, req: ApiRequest, projects: list[Record]) -> list[Record]:
    search = req.str("search")
    if search:
        s = search.lower()
        in_ns = req.bool("search_namespaces", False)
        projects = [
            p
            for p in projects
            if s in p["name"].lower()
            or s in p["path"].lower()
            or (in_ns and s in store.project_path(p).lower())
            or s in (p["description"] or "").lower()
        ]
    archived = req.bool("archived")
    if archived is not None:
        projects = [p for p in projects if p["archived"] == archived]
    visibility = req.choice("visibility", VISIBILITIES)
    if visibility:
        projects = [p for p in projects if p["visibility"] == visibility]
    topic = req.list("topic")
    if topic:
        projects = [p for p in projects if all(t in p["topics"] for t in topic)]
    order = req.choice(
        "order_by",
        ("id", "name", "path", "created_at", "updated_at", "last_activity_at", "similarity"),
        "created_at",
    )
    key = {"updated_at": "last_activity_at", "similarity": "id"}.get(order or "", order)
    projects = sorted(projects, key=lambda p: (p[key], p["id"]))
    if req.choice("sort", ("asc", "desc"), "desc") == "desc":
        projects.reverse()
    return projects
