"""JSON shapes of API answers, following GitLab's Grape entities (lib/api/entities/*.rb).

Only fields a client could reasonably read are emitted, with GitLab's names and
types. ``base`` is the scheme and host the client used, so ``web_url`` and
pagination links point back at whatever the client talks to.
"""

from __future__ import annotations

import datetime as dt

from gl_csm.sandbox.store import Record, Store

ACCESS_LEVELS = (5, 10, 15, 20, 30, 40, 50)


def user_basic(store: Store, user_id: int | None, base: str) -> Record | None:
    if user_id is None or user_id not in store.users:
        return None
    user = store.users[user_id]
    return {
        "id": user["id"],
        "username": user["username"],
        "name": user["name"],
        "state": user["state"],
        "locked": False,
        "avatar_url": None,
        "web_url": f"{base}/{user['username']}",
    }


def user_full(store: Store, user: Record, base: str, *, current: bool = False) -> Record:
    out = user_basic(store, user["id"], base) or {}
    out.update(
        {
            "created_at": user["created_at"],
            "bio": "",
            "public_email": None,
            # User#bot?: bot user types, service accounts among them (app/models/user.rb).
            "bot": user.get("user_type") == "service_account",
            "is_admin": user["is_admin"] if current else None,
        }
    )
    if current:
        out["email"] = user["email"]
        out["can_create_group"] = True
        out["can_create_project"] = True
    return out


def text_color(color: str) -> str:
    """GitLab picks dark or light label text from the background's luminance."""
    hexa = color.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    try:
        r, g, b = (int(hexa[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#FFFFFF"
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    return "#1F1E24" if luminance > 128 else "#FFFFFF"


def namespace(store: Store, ns: Record, base: str) -> Record:
    full_path = store.full_path(ns)
    return {
        "id": ns["id"],
        "name": ns["name"],
        "path": ns["path"],
        "kind": ns["kind"],
        "full_path": full_path,
        "parent_id": ns.get("parent_id"),
        "avatar_url": None,
        "web_url": f"{base}/{'groups/' if ns['kind'] == 'group' else ''}{full_path}",
    }


def group(store: Store, ns: Record, base: str) -> Record:
    """Entities::Group (lib/api/entities/group.rb, BasicGroupDetails)."""
    full_path = store.full_path(ns)
    return {
        "id": ns["id"],
        "web_url": f"{base}/groups/{full_path}",
        "name": ns["name"],
        "path": ns["path"],
        "description": ns.get("description", ""),
        "visibility": ns["visibility"],
        "share_with_group_lock": False,
        "require_two_factor_authentication": False,
        "two_factor_grace_period": 48,
        "project_creation_level": "developer",
        "auto_devops_enabled": None,
        "subgroup_creation_level": "maintainer",
        "emails_disabled": False,
        "emails_enabled": True,
        "show_diff_preview_in_email": True,
        "mentions_disabled": None,
        "lfs_enabled": True,
        "archived": False,
        "math_rendering_limits_enabled": True,
        "lock_math_rendering_limits_enabled": False,
        "default_branch": None,
        "default_branch_protection": 2,
        "default_branch_protection_defaults": {},
        "avatar_url": None,
        "request_access_enabled": True,
        "full_name": store.full_name(ns),
        "full_path": full_path,
        "created_at": ns["created_at"],
        "parent_id": ns.get("parent_id"),
        "organization_id": 1,
        "shared_runners_setting": "enabled",
        "max_artifacts_size": None,
        "marked_for_deletion_on": None,
    }


def group_detail(
    store: Store, ns: Record, base: str, *, admin: bool, with_projects: bool
) -> Record:
    """Entities::GroupDetail (lib/api/entities/group_detail.rb): ``shared_with_groups``
    (no group links in the sandbox: empty), ``runners_token`` for those who administer
    the group, ``prevent_sharing_groups_outside_hierarchy`` on a top-level group, and
    with ``with_projects`` (default true, lib/api/groups.rb) the group's own projects
    and the projects shared with it (none)."""
    out = group(store, ns, base)
    out["shared_with_groups"] = []
    if admin:
        out["runners_token"] = f"GR1348941{ns['id']:020d}"
    if not ns.get("parent_id"):
        out["prevent_sharing_groups_outside_hierarchy"] = False
    if with_projects:
        own = [p for p in store.projects.values() if p["namespace_id"] == ns["id"]]
        out["projects"] = [project(store, p, base) for p in sorted(own, key=lambda p: p["id"])]
        out["shared_projects"] = []
    return out


#: ProjectFeature's features with an access level in the Projects API (doc/api/projects.md).
FEATURES = (
    "issues",
    "repository",
    "merge_requests",
    "forking",
    "wiki",
    "builds",
    "snippets",
    "operations",
    "analytics",
    "requirements",
    "security_and_compliance",
    "container_registry",
    "environments",
    "feature_flags",
    "infrastructure",
    "releases",
    "model_experiments",
    "model_registry",
)


def feature_level(prj: Record, feature: str) -> str:
    return str((prj.get("features") or {}).get(feature, "enabled"))


def project(store: Store, prj: Record, base: str) -> Record:
    ns = store.namespaces[prj["namespace_id"]]
    path_with_ns = store.project_path(prj)
    host = base.split("://", 1)[-1]
    open_issues = sum(1 for i in prj["issues"].values() if i["state"] == "opened")
    empty = not prj["repository"]["commits"]
    return {
        "id": prj["id"],
        "description": prj["description"],
        "name": prj["name"],
        "name_with_namespace": f"{store.full_name(ns)} / {prj['name']}",
        "path": prj["path"],
        "path_with_namespace": path_with_ns,
        "created_at": prj["created_at"],
        "default_branch": prj["default_branch"],
        "tag_list": list(prj["topics"]),
        "topics": list(prj["topics"]),
        "ssh_url_to_repo": f"git@{host}:{path_with_ns}.git",
        "http_url_to_repo": f"{base}/{path_with_ns}.git",
        "web_url": f"{base}/{path_with_ns}",
        "readme_url": None if empty else f"{base}/{path_with_ns}/-/blob/main/README.md",
        "avatar_url": None,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": prj["last_activity_at"],
        "namespace": namespace(store, ns, base),
        "visibility": prj["visibility"],
        # doc/api/projects.md: who may see the project's Pages site (disabled, private =
        # project members only, enabled = whoever can see the project, public).
        "pages_access_level": prj.get("pages_access_level")
        or ("enabled" if prj["visibility"] == "public" else "private"),
        "archived": prj["archived"],
        "empty_repo": empty,
        # ProjectFeature access levels (lib/api/entities/project.rb); the *_enabled
        # booleans are the same settings seen as on/off.
        **{f"{f}_access_level": feature_level(prj, f) for f in FEATURES},
        "issues_enabled": feature_level(prj, "issues") != "disabled",
        "merge_requests_enabled": feature_level(prj, "merge_requests") != "disabled",
        "wiki_enabled": feature_level(prj, "wiki") != "disabled",
        "jobs_enabled": feature_level(prj, "builds") != "disabled",
        "snippets_enabled": feature_level(prj, "snippets") != "disabled",
        "open_issues_count": open_issues,
        "creator_id": prj.get("creator_id"),
        "import_status": "none",
        "import_error": None,
    }


def label(
    store: Store,
    lbl: Record,
    base: str,
    *,
    for_project: Record | None = None,
    with_counts: bool = False,
    user_id: int = 0,
) -> Record:
    """Entities::ProjectLabel / GroupLabel; counts only with ``with_counts=true``
    (doc/api/labels.md, "List labels"); ``subscribed`` for ``user_id``
    (lib/api/entities/label.rb ``label.subscribed?(current_user, parent)``); a group
    label's priority is the one set for ``for_project`` (LabelPriority per project)."""
    priority = lbl.get("priority")
    if for_project is not None and lbl.get("group_id") is not None:
        priority = (lbl.get("priorities") or {}).get(str(for_project["id"]))
    out: Record = {
        "id": lbl["id"],
        "name": lbl["name"],
        "color": lbl["color"],
        "text_color": text_color(lbl["color"]),
        "description": lbl.get("description"),
        "description_html": lbl.get("description") or "",
        "subscribed": user_id in (lbl.get("subscribers") or []),
        "priority": priority,
        "is_project_label": lbl.get("project_id") is not None,
    }
    if with_counts:
        counts = {"opened": 0, "closed": 0, "mr": 0}
        projects = [for_project] if for_project else _label_projects(store, lbl)
        for prj in projects:
            for kind, item in store.iter_issuables(prj):
                if lbl["id"] in item["label_ids"]:
                    if kind == "Issue":
                        counts["opened" if item["state"] == "opened" else "closed"] += 1
                    elif item["state"] == "opened":
                        counts["mr"] += 1
        out.update(
            {
                "open_issues_count": counts["opened"],
                "closed_issues_count": counts["closed"],
                "open_merge_requests_count": counts["mr"],
            }
        )
    return out


def _label_projects(store: Store, lbl: Record) -> list[Record]:
    if lbl.get("project_id") is not None:
        prj = store.projects.get(lbl["project_id"])
        return [prj] if prj else []
    return [
        p
        for p in store.projects.values()
        if any(g["id"] == lbl.get("group_id") for g in store.project_groups(p))
    ]


def label_basic(lbl: Record) -> Record:
    return {
        "id": lbl["id"],
        "name": lbl["name"],
        "color": lbl["color"],
        "description": lbl.get("description"),
        "text_color": text_color(lbl["color"]),
        "description_html": lbl.get("description") or "",
    }


def milestone_fields(ms: Record, today: dt.date) -> Record:
    """lib/api/entities/milestone.rb, the fields a project and a group milestone share
    (the owner's id and the ``web_url`` are the caller's)."""
    expired = bool(ms.get("due_date")) and dt.date.fromisoformat(ms["due_date"]) < today
    return {
        "id": ms["id"],
        "iid": ms["iid"],
        "title": ms["title"],
        "description": ms.get("description"),
        "state": ms["state"],
        "created_at": ms["created_at"],
        "updated_at": ms["updated_at"],
        "due_date": ms.get("due_date"),
        "start_date": ms.get("start_date"),
        "expired": expired,
    }


def milestone(store: Store, prj: Record, ms: Record, base: str, today: dt.date) -> Record:
    return {
        **milestone_fields(ms, today),
        "project_id": prj["id"],
        "web_url": f"{base}/{store.project_path(prj)}/-/milestones/{ms['iid']}",
    }


def member(store: Store, entry: Record, base: str) -> Record:
    out = user_basic(store, entry["user_id"], base) or {}
    out.update(
        {
            "access_level": entry["access_level"],
            "created_at": entry["created_at"],
            "expires_at": entry.get("expires_at"),
            "membership_state": "active",
            "created_by": user_basic(store, entry.get("created_by_id"), base),
        }
    )
    return out


def issuable(
    store: Store, prj: Record, kind: str, item: Record, base: str, today: dt.date
) -> Record:
    path = store.project_path(prj)
    label_names = sorted(store.labels[i]["name"] for i in item["label_ids"] if i in store.labels)
    ms = next((m for m in prj["milestones"] if m["id"] == item.get("milestone_id")), None)
    assignees = [user_basic(store, uid, base) for uid in item["assignee_ids"]]
    assignees = [a for a in assignees if a]
    sigil = "#" if kind == "Issue" else "!"
    segment = "issues" if kind == "Issue" else "merge_requests"
    notes = sum(1 for n in item["notes"] if not n["system"])
    out: Record = {
        "id": item["id"],
        "iid": item["iid"],
        "project_id": prj["id"],
        "title": item["title"],
        "description": item["description"],
        "state": item["state"],
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
        "closed_at": item["closed_at"],
        "closed_by": user_basic(store, item.get("closed_by_id"), base),
        "labels": label_names,
        "milestone": milestone(store, prj, ms, base, today) if ms else None,
        "assignees": assignees,
        "assignee": assignees[0] if assignees else None,
        "author": user_basic(store, item["author_id"], base),
        "user_notes_count": notes,
        "upvotes": 0,
        "downvotes": 0,
        "discussion_locked": item.get("discussion_locked"),
        "web_url": f"{base}/{path}/-/{segment}/{item['iid']}",
        "references": {
            "short": f"{sigil}{item['iid']}",
            "relative": f"{sigil}{item['iid']}",
            "full": f"{path}{sigil}{item['iid']}",
        },
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": None,
            "human_total_time_spent": None,
        },
    }
    if kind == "Issue":
        api = f"{base}/api/v4/projects/{prj['id']}"
        out.update(
            {
                # lib/api/entities/issue.rb
                "_links": {
                    "self": f"{api}/issues/{item['iid']}",
                    "notes": f"{api}/issues/{item['iid']}/notes",
                    "award_emoji": f"{api}/issues/{item['iid']}/award_emoji",
                    "project": api,
                    "closed_as_duplicate_of": None,
                },
                "moved_to_id": None,
                "service_desk_reply_to": None,
                "type": "ISSUE",
                "issue_type": "issue",
                "due_date": item.get("due_date"),
                "confidential": item["confidential"],
                "merge_requests_count": 0,
                "has_tasks": False,
                "severity": "UNKNOWN",
                "task_completion_status": {"count": 0, "completed_count": 0},
            }
        )
    else:
        out.update(
            {
                "source_branch": item["source_branch"],
                "target_branch": item["target_branch"],
                "source_project_id": prj["id"],
                "target_project_id": prj["id"],
                "draft": False,
                "work_in_progress": False,
                "merge_status": "can_be_merged",
                "detailed_merge_status": "mergeable",
                "sha": item.get("sha"),
                "merged_at": None,
                "merged_by": None,
                "merge_user": None,
                "reviewers": [],
                "squash": False,
            }
        )
    return out


def note(store: Store, prj: Record, kind: str, item: Record, nt: Record, base: str) -> Record:
    return {
        "id": nt["id"],
        "type": None,
        "body": nt["body"],
        "attachment": None,
        "author": user_basic(store, nt["author_id"], base),
        "created_at": nt["created_at"],
        "updated_at": nt["updated_at"],
        "system": nt["system"],
        "noteable_id": item["id"],
        "noteable_type": kind,
        "project_id": prj["id"],
        "resolvable": False,
        "confidential": nt["internal"],
        "internal": nt["internal"],
        "imported": False,
        "imported_from": "none",
        "noteable_iid": item["iid"],
        "commands_changes": nt.get("commands_changes", {}),
    }


def commit(store: Store, prj: Record, sha: str, base: str, *, detail: bool = False) -> Record:
    c = prj["repository"]["commits"][sha]
    out: Record = {
        "id": sha,
        "short_id": sha[:8],
        "title": c["message"].split("\n", 1)[0],
        "message": c["message"],
        "author_name": c["author_name"],
        "author_email": c["author_email"],
        "authored_date": c["created_at"],
        "committer_name": c["author_name"],
        "committer_email": c["author_email"],
        "committed_date": c["created_at"],
        "created_at": c["created_at"],
        "parent_ids": list(c["parent_ids"]),
        "trailers": {},
        "extended_trailers": {},
        "web_url": f"{base}/{store.project_path(prj)}/-/commit/{sha}",
    }
    if detail:
        out["stats"] = dict(c.get("stats", {"additions": 0, "deletions": 0, "total": 0}))
        out["status"] = None
        out["project_id"] = prj["id"]
        out["last_pipeline"] = None
    return out
