"""Who can read a project (doc/user/permissions.md, doc/user/public_access.md).

- A user's access level in a project is the highest of their direct project
  membership and their memberships of the project's ancestor groups (inherited
  membership, doc/user/project/members/_index.md, "Membership types").
- ``public`` projects are readable by anyone, ``internal`` ones by any signed-in
  user, ``private`` ones by members of at least Guest level (Minimal Access reads
  nothing, doc/user/permissions.md).
- Administrators read everything; the token owner (the bot) is an administrator.
"""

from __future__ import annotations

from gl_csm.sandbox.store import Record, Store

GUEST = 10
HUMAN_ACCESS = {
    5: "Minimal Access",
    10: "Guest",
    15: "Planner",
    20: "Reporter",
    30: "Developer",
    40: "Maintainer",
    50: "Owner",
}


def project_access_level(store: Store, project: Record, user_id: int) -> int:
    """The user's effective level in the project (0 = not a member)."""
    sources = [project, *store.project_groups(project)]
    return max(
        (e["access_level"] for s in sources for e in s["members"] if e["user_id"] == user_id),
        default=0,
    )


def highest_group_member(
    store: Store, holder: Record, user_id: int, *, project: bool
) -> tuple[Record, Record] | None:
    """Member#highest_group_member: the user's highest membership in an ancestor group of
    ``holder`` (a project's groups, or a group's parents), with that group."""
    groups = store.project_groups(holder) if project else store.ancestors(holder)[1:]
    best: tuple[Record, Record] | None = None
    for group in groups:
        for entry in group["members"]:
            if entry["user_id"] == user_id and (
                best is None or entry["access_level"] > best[0]["access_level"]
            ):
                best = (entry, group)
    return best


def can_read_project(store: Store, project: Record, user_id: int) -> bool:
    user = store.users.get(user_id)
    if user is None or user.get("state", "active") != "active":
        return False
    if user.get("is_admin"):
        return True
    if project["visibility"] in ("public", "internal"):
        return True
    return project_access_level(store, project, user_id) >= GUEST
