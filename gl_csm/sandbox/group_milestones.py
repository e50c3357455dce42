"""Group milestones (doc/api/group_milestones.md; GitLab Free, Premium and Ultimate).

``GET /groups/:id/milestones`` follows lib/api/group_milestones.rb, the list params of
lib/api/milestone_responses.rb, lib/api/concerns/milestones/group_project_params.rb
(``group_finder_params``) and app/finders/milestones_finder.rb:

- without ``include_descendants`` or ``include_ancestors``: the group's own milestones
  only (``{ group_ids: parent.id }``), never its projects' milestones;
- ``include_descendants`` (GitLab 16.7): the milestones of the group and its subgroups
  the user can read (``public_or_visible_to_user``) and of the projects below whose
  issues or merge requests the user can see (GroupProjectsFinder with
  ``include_subgroups``, ``with_issues_or_mrs_available_for_user``);
- ``include_ancestors`` (``include_parent_milestones``, deprecated, maps onto it; both
  at once answer 400): the group's ancestors' milestones the user can read;
- ``state`` (``active``, ``closed``, default ``all``), ``title`` (exact), ``search``
  (title or description, case-insensitive), ``iids[]`` (ignored with
  ``include_ancestors``), ``updated_before`` / ``updated_after`` (inclusive,
  UpdatedAtFilterable);
- ordered by due date, nulls last, then id descending (``Milestone.sort_by_attribute``
  ``due_date_asc`` with ``with_order_id_desc``); paginated like every listing.

A project milestone carries ``project_id``, a group milestone ``group_id``
(lib/api/entities/milestone.rb); neither has a ``closed_at``: the day a milestone was
closed is at best its ``updated_at``. The group's read check (``404 Group Not Found``)
is policy.py's, as for every ``/groups/:id`` route.
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.entities import feature_level, milestone_fields
from gl_csm.sandbox.errors import ApiError, bad_request, ruby_errors
from gl_csm.sandbox.milestones import matches, new_milestone
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.permissions import can_read_project, project_access_level
from gl_csm.sandbox.policy import can_read_group
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store, parse_iso

_TAKEN = "already being used for another group or project milestone."


def render_group_milestone(store: Store, group: Record, ms: Record, base: str) -> Record:
    """lib/api/entities/milestone.rb for a group milestone: ``group_id``, no
    ``project_id``; ``web_url`` is the group's milestone page (Gitlab::UrlBuilder)."""
    return {
        **milestone_fields(ms, store.clock().date()),
        "group_id": group["id"],
        "web_url": f"{base}/groups/{store.full_path(group)}/-/milestones/{ms['iid']}",
    }


def _projects_below(store: Store, group: Record, user_id: int) -> list[Record]:
    """GroupProjectsFinder ``include_subgroups`` narrowed by
    ``with_issues_or_mrs_available_for_user``: a readable project whose issues or merge
    requests are enabled, or private to members and the user is one."""
    spaces = {n["id"] for n in store.descendants(group)}
    out = []
    for project in store.projects.values():
        if project["namespace_id"] not in spaces:
            continue
        if not can_read_project(store, project, user_id):
            continue
        levels = {feature_level(project, f) for f in ("issues", "merge_requests")}
        member = project_access_level(store, project, user_id) > 0
        if "enabled" in levels or "public" in levels or ("private" in levels and member):
            out.append(project)
    return out


def _rows(store: Store, req: ApiRequest, group: Record) -> list[tuple[Record, str, Record]]:
    """(owner, kind, milestone) for the groups and projects the parameters include."""
    if req.has("include_ancestors") and req.has("include_parent_milestones"):
        raise ApiError(
            400, {"error": "include_ancestors, include_parent_milestones are mutually exclusive"}
        )
    ancestors = bool(req.bool("include_ancestors") or req.bool("include_parent_milestones"))
    descendants = bool(req.bool("include_descendants"))
    groups = [group]
    if ancestors:
        groups += store.ancestors(group)[1:]
    if descendants:
        groups += store.descendants(group)[1:]
    if ancestors or descendants:
        groups = [g for g in groups if can_read_group(store, g, req.user_id)]
    rows = [(g, "group", m) for g in groups for m in g.get("milestones") or []]
    if descendants:
        rows += [
            (p, "project", m)
            for p in _projects_below(store, group, req.user_id)
            for m in p["milestones"]
        ]
    if not ancestors:
        iids = req.int_list("iids")
        if iids:
            rows = [r for r in rows if r[2]["iid"] in iids]
    return rows


def _updated_between(req: ApiRequest, ms: Record) -> bool:
    updated = parse_iso(ms["updated_at"])
    before, after = req.datetime("updated_before"), req.datetime("updated_after")
    return (before is None or updated <= before) and (after is None or updated >= after)


@route("GET", "/groups/:id/milestones")
def list_group_milestones(store: Store, req: ApiRequest, id: str) -> Reply:
    group = store.group(id)
    state = req.choice("state", ("active", "closed", "all"), "all")
    rows = [
        r
        for r in _rows(store, req, group)
        if (state == "all" or r[2]["state"] == state)
        and matches(req, r[2])
        and _updated_between(req, r[2])
    ]
    rows.sort(key=lambda r: -r[2]["id"])
    rows.sort(key=lambda r: (r[2].get("due_date") is None, r[2].get("due_date") or ""))

    def present(row: tuple[Record, str, Record]) -> Record:
        owner, kind, ms = row
        if kind == "group":
            return render_group_milestone(store, owner, ms, req.base_url)
        return entities.milestone(store, owner, ms, req.base_url, store.clock().date())

    return paginate(req, rows, present)


@route("POST", "/groups/:id/milestones")
def post_group_milestone(store: Store, req: ApiRequest, id: str) -> Any:
    """doc/api/group_milestones.md "Create new milestone"; the title is unique among the
    group's and its projects' milestones (Milestone#uniqueness_of_title)."""
    group = store.group(id)
    title = req.required_str("title")
    own = group.setdefault("milestones", [])
    taken = [m["title"] for m in own] + [
        m["title"]
        for p in store.projects.values()
        if p["namespace_id"] == group["id"]
        for m in p["milestones"]
    ]
    if title in taken:
        raise bad_request(f"Failed to create milestone {ruby_errors({'title': [_TAKEN]})}")
    ms = new_milestone(store, req, max((m["iid"] for m in own), default=0) + 1, title)
    own.append(ms)
    return render_group_milestone(store, group, ms, req.base_url)
