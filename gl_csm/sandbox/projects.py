"""Projects: get, list, create, edit, transfer (doc/api/projects.md)."""

from __future__ import annotations

import re
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, bad_request, forbidden, not_found, ruby_errors
from gl_csm.sandbox.labels_model import create_label, visible_labels
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.permissions import can_read_project, project_access_level
from gl_csm.sandbox.policy import (
    DEVELOPER,
    MAINTAINER,
    group_access_level,
    is_admin,
    require_group,
)
from gl_csm.sandbox.project_filters import filter_projects
from gl_csm.sandbox.repository import commit_files
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store
from gl_csm.sandbox.visibility import VISIBILITIES, visibility_rank

_PATH = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.\-]*$")


def path_from_name(name: str) -> str:
    return re.sub(r"[^a-z0-9_.]+", "-", name.lower()).strip("-.") or "project"


def create_project(
    store: Store,
    *,
    name: str,
    path: str,
    namespace: Record,
    actor_id: int,
    visibility: str = "private",
    description: str = "",
    topics: list[str] | None = None,
    readme: bool = False,
) -> Record:
    errors: dict[str, list[str]] = {}
    for other in store.projects.values():
        if other["namespace_id"] != namespace["id"]:
            continue
        if other["name"].lower() == name.lower():
            errors["name"] = ["has already been taken"]
        if other["path"].lower() == path.lower():
            errors["path"] = ["has already been taken"]
    if not _PATH.match(path) or path.endswith((".git", ".atom", ".")):
        errors.setdefault("path", []).append(
            "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', "
            "end in '.git' or end in '.atom'"
        )
    if namespace["kind"] == "group" and visibility_rank(visibility) > visibility_rank(
        namespace["visibility"]
    ):
        errors["visibility_level"] = [
            f"{visibility} is not allowed in a {namespace['visibility']} group."
        ]
    if errors:
        # Projects API renders model errors as a hash (render_validation_error!).
        raise bad_request(errors)
    now = store.now()
    project: Record = {
        "id": store.next_id("project"),
        "name": name,
        "path": path,
        "namespace_id": namespace["id"],
        "description": description,
        "topics": list(topics or []),
        "visibility": visibility,
        "archived": False,
        "default_branch": "main",
        "creator_id": actor_id,
        "created_at": now,
        "last_activity_at": now,
        "members": [],
        "milestones": [],
        "counters": {},
        "repository": {"branches": {}, "commits": {}},
        "issues": {},
        "merge_requests": {},
    }
    store.projects[project["id"]] = project
    store.claim_path(store.project_path(project))
    if namespace["kind"] == "user":
        # Personal projects: the owner is a direct member (doc/user/permissions.md).
        from gl_csm.sandbox.members import add_member

        add_member(store, project, namespace["owner_id"], 50, actor_id)
    if readme:
        text = f"# {name}\n\n{description}\n" if description else f"# {name}\n"
        commit_files(
            store,
            project,
            branch="main",
            message="Initial commit",
            actions=[{"action": "create", "file_path": "README.md", "content": text}],
            author_id=actor_id,
        )
    return project


@route("GET", "/projects")
def list_projects(store: Store, req: ApiRequest) -> Reply:
    """The projects the user can read (ProjectsFinder), ``membership`` those the user is
    a member of (directly or through a group)."""
    projects = [p for p in store.projects.values() if can_read_project(store, p, req.user_id)]
    if req.bool("membership", False) or req.bool("owned", False):
        floor = 50 if req.bool("owned", False) else 1
        projects = [p for p in projects if project_access_level(store, p, req.user_id) >= floor]
    projects = filter_projects(store, req, projects)
    return paginate(req, projects, lambda p: entities.project(store, p, req.base_url))


@route("GET", "/projects/:id")
def get_project(store: Store, req: ApiRequest, id: str) -> Any:
    return entities.project(store, store.project(id), req.base_url)


@route("POST", "/projects")
def post_project(store: Store, req: ApiRequest) -> Any:
    if req.job_token:
        raise forbidden()
    name = req.str("name")
    path = req.str("path")
    if not name and not path:
        raise ApiError(
            400, {"error": "path, name are missing, at least one parameter must be provided"}
        )
    name = name or path
    path = path or path_from_name(name or "")
    assert name is not None
    ns_id = req.int("namespace_id")
    if ns_id is None:
        namespace = store.namespaces[store.users[req.user_id]["namespace_id"]]
    else:
        found = store.namespaces.get(ns_id)
        if found is None:
            raise bad_request({"namespace": ["is not valid"]})
        namespace = found
        if namespace["kind"] == "group":
            # GroupPolicy ``create_projects``: Developer and up (the default
            # project_creation_level); else 403 (lib/api/projects.rb).
            require_group(store, namespace, req.user_id, DEVELOPER)
        elif namespace.get("owner_id") != req.user_id and not is_admin(store, req.user_id):
            raise forbidden()
    visibility = req.choice("visibility", VISIBILITIES, "private")
    assert visibility is not None
    topics = req.list("topics") if req.has("topics") else req.list("tag_list")
    project = create_project(
        store,
        name=name,
        path=path,
        namespace=namespace,
        actor_id=req.user_id,
        visibility=visibility,
        description=req.str("description", "") or "",
        topics=topics,
        readme=bool(req.bool("initialize_with_readme", False)),
    )
    _set_features(project, req)
    return entities.project(store, project, req.base_url)


def _moved(store: Store, project: Record, old_path: str) -> None:
    """The old full path keeps finding the project until another takes it (routable.rb)."""
    new_path = store.project_path(project)
    if new_path.lower() != old_path.lower():
        store.add_redirect(old_path, project)
        store.claim_path(new_path)


@route("PUT", "/projects/:id")
def put_project(store: Store, req: ApiRequest, id: str) -> Any:
    """Edit; ``topics`` replaces the whole list (doc/api/projects.md, "Edit a project");
    a new ``path`` leaves a redirect from the old one."""
    project = store.project(id)
    if req.has("path"):
        path = req.required_str("path")
        if not _PATH.match(path) or path.endswith((".git", ".atom", ".")):
            raise bad_request(
                {
                    "path": [
                        "can contain only letters, digits, '_', '-' and '.'. Cannot start "
                        "with '-', end in '.git' or end in '.atom'"
                    ]
                }
            )
        if any(
            o is not project
            and o["namespace_id"] == project["namespace_id"]
            and o["path"].lower() == path.lower()
            for o in store.projects.values()
        ):
            raise bad_request({"path": ["has already been taken"]})
        old_path = store.project_path(project)
        project["path"] = path
        _moved(store, project, old_path)
    if req.has("name"):
        project["name"] = req.required_str("name")
    if req.has("description"):
        project["description"] = req.str("description") or ""
    if req.has("topics") or req.has("tag_list"):
        project["topics"] = (
            req.list("topics") if req.has("topics") else req.list("tag_list")
        ) or []
    if req.has("default_branch"):
        project["default_branch"] = req.required_str("default_branch")
    if req.has("visibility"):
        visibility = req.choice("visibility", VISIBILITIES)
        assert visibility is not None
        namespace = store.namespaces[project["namespace_id"]]
        if namespace["kind"] == "group" and visibility_rank(visibility) > visibility_rank(
            namespace["visibility"]
        ):
            raise bad_request(
                {
                    "visibility_level": [
                        f"{visibility} is not allowed in a {namespace['visibility']} group."
                    ]
                }
            )
        project["visibility"] = visibility
    _set_features(project, req)
    project["last_activity_at"] = store.now()
    return entities.project(store, project, req.base_url)


def _set_features(project: Record, req: ApiRequest) -> None:
    """``<feature>_access_level`` (``disabled``, ``private``, ``enabled``; Grape
    ``values:``) and the older ``<feature>_enabled`` booleans (lib/api/helpers/
    projects_helpers.rb)."""
    features = project.setdefault("features", {})
    for feature in entities.FEATURES:
        level = req.choice(f"{feature}_access_level", ("disabled", "private", "enabled"))
        if level is not None:
            features[feature] = level
    for flag, feature in (
        ("issues_enabled", "issues"),
        ("merge_requests_enabled", "merge_requests"),
        ("wiki_enabled", "wiki"),
        ("jobs_enabled", "builds"),
        ("snippets_enabled", "snippets"),
    ):
        on = req.bool(flag)
        if on is not None:
            features[feature] = "enabled" if on else "disabled"
    pages = req.choice("pages_access_level", ("disabled", "private", "enabled", "public"))
    if pages is not None:
        project["pages_access_level"] = pages


@route("POST", "/projects/:id/archive")
def archive(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    project["archived"] = True
    return entities.project(store, project, req.base_url)


@route("POST", "/projects/:id/unarchive")
def unarchive(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    project["archived"] = False
    return entities.project(store, project, req.base_url)


@route("PUT", "/projects/:id/transfer")
def transfer(store: Store, req: ApiRequest, id: str) -> Any:
    """Move a project to another namespace (doc/api/projects.md, "Transfer a project").

    Errors as lib/api/projects.rb and Projects::TransferService: unknown namespace
    404 ``Namespace Not Found``; otherwise 400 ``Failed to transfer project {...}``.
    Group labels used by the project's issues that the target does not provide are
    copied as project labels (doc/user/project/settings/migrate_projects.md).
    """
    if req.job_token:
        raise forbidden()
    project = store.project(id)
    target_ref = req.required_str("namespace")
    target = store.find_namespace(target_ref)
    if target is None:
        raise not_found("Namespace")

    def fail(message: str) -> ApiError:
        return bad_request(
            f"Failed to transfer project {ruby_errors({'new_namespace': [message]})}"
        )

    if target["id"] == project["namespace_id"]:
        raise fail("Project is already in this namespace.")
    if target["kind"] == "group" and not (
        is_admin(store, req.user_id) or group_access_level(store, target, req.user_id) >= MAINTAINER
    ):
        # Projects::TransferService#allowed_to_transfer_to_namespace?: GroupPolicy
        # ``transfer_projects``, a Maintainer who may create projects there
        # (spec/services/projects/transfer_service_spec.rb "but has only developer
        # permissions in the target namespace"). The project itself needs its Owner
        # (``authorize! :change_namespace``: 403, policy.py).
        raise fail("You don't have permission to transfer projects into that namespace.")
    for other in store.projects.values():
        if other["namespace_id"] == target["id"] and (
            other["path"].lower() == project["path"].lower()
            or other["name"].lower() == project["name"].lower()
        ):
            raise fail("Project with same name or path in target namespace already exists")
    if target["kind"] == "group" and visibility_rank(project["visibility"]) > visibility_rank(
        target["visibility"]
    ):
        project["visibility"] = target["visibility"]

    old_group_labels = {
        lb["id"]: lb for lb in visible_labels(store, project) if lb.get("group_id") is not None
    }
    old_path = store.project_path(project)
    project["namespace_id"] = target["id"]
    _moved(store, project, old_path)
    now_visible = {lb["name"]: lb for lb in visible_labels(store, project)}
    remap: dict[int, int] = {}
    for label_id, label in old_group_labels.items():
        used = any(label_id in item["label_ids"] for _, item in store.iter_issuables(project))
        if not used or label["id"] in {lb["id"] for lb in now_visible.values()}:
            continue
        replacement = now_visible.get(label["name"])
        if replacement is None:
            replacement = create_label(
                store,
                name=label["name"],
                color=label["color"],
                description=label.get("description"),
                priority=None,
                project_id=project["id"],
            )
            now_visible[label["name"]] = replacement
        remap[label_id] = replacement["id"]
    if remap:
        for _, item in store.iter_issuables(project):
            item["label_ids"] = [remap.get(i, i) for i in item["label_ids"]]
    project["last_activity_at"] = store.now()
    return entities.project(store, project, req.base_url)
