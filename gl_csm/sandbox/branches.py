"""Creating and deleting branches, and protected branches (doc/api/branches.md,
doc/api/protected_branches.md).

- ``POST /projects/:id/repository/branches`` (``branch``, ``ref``): 201 with the
  branch; an existing name is 400 ``Branch already exists``, an unknown ref 400
  ``Invalid reference name: <ref>`` (lib/api/branches.rb, Branches::CreateService).
- ``DELETE .../branches/:branch``: 204; the default branch 400 ``The default branch of a
  project cannot be deleted.``; a protected one 403 (Branches::DeleteService).
- Protected branches: the default branch is protected when the project gets it
  (``default_branch_protection`` 2: Maintainers push and merge); ``POST`` (``name``,
  ``push_access_level``, ``merge_access_level``, ``allow_force_push``) answers 201,
  409 ``Protected branch '<name>' already exists``; ``DELETE`` 204; an unknown name 404
  (``find_by!``: ``404 Not found``). Maintainer and up (``admin_project``, policy.py).
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox.errors import ApiError, bad_request, conflict, forbidden, record_not_found
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.repository import branch_entity, is_protected, protected_list, resolve_ref
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

#: ProtectedRefAccess#humanize (app/models/concerns/protected_ref_access.rb).
_LEVELS = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers", 60: "Admins"}


def _entity(entry: Record) -> Record:
    def access(level: int, offset: int) -> list[Record]:
        return [
            {
                "id": entry["id"] * 10 + offset,
                "access_level": level,
                "access_level_description": _LEVELS.get(level, str(level)),
                "user_id": None,
                "group_id": None,
                "deploy_key_id": None,
            }
        ]

    return {
        "id": entry["id"],
        "name": entry["name"],
        "push_access_levels": access(entry["push"], 1),
        "merge_access_levels": access(entry["merge"], 2),
        "unprotect_access_levels": [],
        "allow_force_push": bool(entry.get("allow_force_push", False)),
        "code_owner_approval_required": False,
    }


@route("POST", "/projects/:id/repository/branches")
def create_branch(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    name = req.required_str("branch")
    ref = req.required_str("ref")
    branches = project["repository"]["branches"]
    if name in branches:
        raise bad_request("Branch already exists")
    base = resolve_ref(project, ref)
    if base is None:
        raise bad_request(f"Invalid reference name: {ref}")
    branches[name] = {"head": base["head"], "files": dict(base["files"])}
    return branch_entity(store, project, name, req.base_url)


@route("DELETE", "/projects/:id/repository/branches/:branch")
def delete_branch(store: Store, req: ApiRequest, id: str, branch: str) -> Reply:
    project = store.project(id)
    if branch not in project["repository"]["branches"]:
        raise ApiError(404, {"message": "404 Branch Not Found"})
    if branch == project["default_branch"]:
        raise bad_request("The default branch of a project cannot be deleted.")
    if is_protected(project, branch):
        raise forbidden()
    del project["repository"]["branches"][branch]
    return no_content()


@route("GET", "/projects/:id/protected_branches")
def list_protected(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    return paginate(req, [_entity(p) for p in protected_list(project)])


@route("GET", "/projects/:id/protected_branches/:name")
def get_protected(store: Store, req: ApiRequest, id: str, name: str) -> Any:
    project = store.project(id)
    for entry in protected_list(project):
        if entry["name"] == name:
            return _entity(entry)
    raise record_not_found()


def _level(req: ApiRequest, name: str) -> int:
    level = req.int(name)
    if level is None:
        return 40
    if level not in (0, 30, 40, 60):
        raise ApiError(400, {"error": f"{name} does not have a valid value"})
    return level


@route("POST", "/projects/:id/protected_branches")
def protect(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    name = req.required_str("name")
    entries = protected_list(project)
    if any(p["name"] == name for p in entries):
        raise conflict(f"Protected branch '{name}' already exists")
    entry = {
        "id": store.next_id("protected_branch"),
        "name": name,
        "push": _level(req, "push_access_level"),
        "merge": _level(req, "merge_access_level"),
        "allow_force_push": bool(req.bool("allow_force_push", False)),
    }
    project["protected_branches"] = [*entries, entry]
    return _entity(entry)


@route("DELETE", "/projects/:id/protected_branches/:name")
def unprotect(store: Store, req: ApiRequest, id: str, name: str) -> Reply:
    project = store.project(id)
    entries = protected_list(project)
    kept = [p for p in entries if p["name"] != name]
    if len(kept) == len(entries):
        raise record_not_found()
    project["protected_branches"] = kept
    return no_content()
