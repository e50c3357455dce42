"""Who may do what: each request is answered with the rights of the token's user.

GitLab checks, per route, that the user can read the project or group named by
``:id`` (lib/api/helpers.rb ``find_project!`` / ``find_group!``: ``404 Project Not
Found`` / ``404 Group Not Found`` otherwise, so a private project is not revealed), then
the ability the route needs (``authorize!``: ``403 Forbidden``). The abilities, by the
role the user holds in the project (direct or inherited, highest wins) or group
(doc/user/permissions.md; app/policies/project_policy.rb, group_policy.rb):

- create an issue or a note, subscribe to a label: anyone who can read the project;
- edit issues, labels, milestones, boards (``admin_issue``, ``admin_label``,
  ``admin_milestone``, ``admin_issue_board``): Planner and up (Planner sits below
  Reporter in GitLab's levels but holds these planning rights), or the issue's author;
- push commits, open merge requests: Developer and up;
- edit the project, its members: Maintainer and up;
- delete issues, archive or transfer the project: Owner;
- group labels: Planner and up in the group; group members, group settings, subgroups,
  transferring a project into the group: Owner of the group; new projects in a group:
  Developer and up (the default ``project_creation_level``).

Administrators may do everything (``admin_all_resources``). Routes with rules beyond
a level (a note's author) check them in their handlers with :func:`require_project`.
"""

from __future__ import annotations

from gl_csm.sandbox.errors import forbidden, not_found
from gl_csm.sandbox.permissions import can_read_project, project_access_level
from gl_csm.sandbox.store import Record, Store

GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50

#: (method, route template) -> level needed in the project (``/projects/:id/...``) or
#: the group (``/groups/:id/...``). Reads need only the read check.
ROUTE_LEVELS: dict[tuple[str, str], int] = {
    ("PUT", "/projects/:id"): MAINTAINER,
    ("DELETE", "/projects/:id"): OWNER,
    ("POST", "/projects/:id/archive"): OWNER,
    ("POST", "/projects/:id/unarchive"): OWNER,
    ("PUT", "/projects/:id/transfer"): OWNER,
    ("DELETE", "/projects/:id/issues/:iid"): OWNER,
    ("POST", "/projects/:id/labels"): PLANNER,
    ("PUT", "/projects/:id/labels"): PLANNER,
    ("PUT", "/projects/:id/labels/:label"): PLANNER,
    ("DELETE", "/projects/:id/labels"): PLANNER,
    ("DELETE", "/projects/:id/labels/:label"): PLANNER,
    ("POST", "/projects/:id/milestones"): PLANNER,
    ("PUT", "/projects/:id/milestones/:milestone_id"): PLANNER,
    ("DELETE", "/projects/:id/milestones/:milestone_id"): PLANNER,
    ("POST", "/projects/:id/boards"): PLANNER,
    ("PUT", "/projects/:id/boards/:board_id"): PLANNER,
    ("POST", "/projects/:id/boards/:board_id/lists"): PLANNER,
    ("PUT", "/projects/:id/boards/:board_id/lists/:list_id"): PLANNER,
    ("DELETE", "/projects/:id/boards/:board_id/lists/:list_id"): PLANNER,
    ("POST", "/projects/:id/repository/commits"): DEVELOPER,
    ("POST", "/projects/:id/repository/branches"): DEVELOPER,
    ("POST", "/projects/:id/repository/files/:file_path"): DEVELOPER,
    ("PUT", "/projects/:id/repository/files/:file_path"): DEVELOPER,
    ("DELETE", "/projects/:id/repository/files/:file_path"): DEVELOPER,
    ("DELETE", "/projects/:id/repository/branches/:branch"): DEVELOPER,
    ("POST", "/projects/:id/protected_branches"): MAINTAINER,
    ("DELETE", "/projects/:id/protected_branches/:name"): MAINTAINER,
    ("POST", "/projects/:id/merge_requests"): DEVELOPER,
    ("POST", "/projects/:id/members"): MAINTAINER,
    ("PUT", "/projects/:id/members/:user_id"): MAINTAINER,
    ("PUT", "/groups/:id"): OWNER,
    ("POST", "/groups/:id/milestones"): PLANNER,
    ("POST", "/groups/:id/labels"): PLANNER,
    ("PUT", "/groups/:id/labels"): PLANNER,
    ("PUT", "/groups/:id/labels/:label"): PLANNER,
    ("DELETE", "/groups/:id/labels"): PLANNER,
    ("DELETE", "/groups/:id/labels/:label"): PLANNER,
    ("POST", "/groups/:id/members"): OWNER,
    ("PUT", "/groups/:id/members/:user_id"): OWNER,
}


def is_admin(store: Store, user_id: int) -> bool:
    user = store.users.get(user_id)
    return bool(user and user.get("is_admin"))


def group_access_level(store: Store, group: Record, user_id: int) -> int:
    """The user's level in a group: its own and its ancestors' memberships."""
    return max(
        (
            e["access_level"]
            for ns in store.ancestors(group)
            for e in ns["members"]
            if e["user_id"] == user_id
        ),
        default=0,
    )


def can_read_group(store: Store, group: Record, user_id: int) -> bool:
    """GroupPolicy ``read_group``: public groups to anyone, internal ones to anyone
    signed in, private ones to members of the group, its ancestors or descendants
    (a member of a subgroup or of a project below sees the group's name and path)."""
    if is_admin(store, user_id) or group["visibility"] in ("public", "internal"):
        return True
    if group_access_level(store, group, user_id) > 0:
        return True
    below = {ns["id"] for ns in store.descendants(group)}
    for ns_id in below:
        if any(e["user_id"] == user_id for e in store.namespaces[ns_id]["members"]):
            return True
    return any(
        p["namespace_id"] in below and any(e["user_id"] == user_id for e in p["members"])
        for p in store.projects.values()
    )


def require_project(store: Store, project: Record, user_id: int, level: int) -> None:
    """403 unless the user holds ``level`` in the project (or is an administrator)."""
    if not is_admin(store, user_id) and project_access_level(store, project, user_id) < level:
        raise forbidden()


def require_group(store: Store, group: Record, user_id: int, level: int) -> None:
    if not is_admin(store, user_id) and group_access_level(store, group, user_id) < level:
        raise forbidden()


def check_route(store: Store, method: str, template: str, ident: str, user_id: int) -> None:
    """The read check on ``:id``, then the route's level (module docstring)."""
    if template.startswith("/projects/:id"):
        project = store.find_project(ident, follow_redirects=True)
        if project is None or not can_read_project(store, project, user_id):
            raise not_found("Project")
        level = ROUTE_LEVELS.get((method, template))
        if level is not None:
            require_project(store, project, user_id, level)
    elif template.startswith("/groups/:id"):
        group = store.find_namespace(ident, kind="group")
        if group is None or not can_read_group(store, group, user_id):
            raise not_found("Group")
        level = ROUTE_LEVELS.get((method, template))
        if level is not None:
            require_group(store, group, user_id, level)
