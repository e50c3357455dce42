"""Issues (doc/api/issues.md) and their resource label events
(doc/api/resource_label_events.md).

- ``id`` is global, ``iid`` counts per project; routes take the ``iid``.
- ``labels`` on create/update replaces all labels, ``add_labels``/``remove_labels``
  change some; unknown names are created as project labels.
- Scoped labels are exclusive per key (doc/user/project/labels.md).
- Quick actions in the description run on create and update and are removed
  from the stored text (doc/user/project/quick_actions.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.editions import is_paid
from gl_csm.sandbox.errors import (
    ApiError,
    at_least_one_missing,
    bad_request,
    forbidden,
    not_found,
)
from gl_csm.sandbox.fulltext import search_filter
from gl_csm.sandbox.issuables import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    UPDATE_KEYS,
    apply_update,
    mentionable_text,
    new_issuable,
    record_mentions,
)
from gl_csm.sandbox.labels_model import ids_for_names
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.permissions import can_read_project, project_access_level
from gl_csm.sandbox.policy import PLANNER, is_admin, require_project
from gl_csm.sandbox.quick_actions import interpret
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store, iso, parse_iso

_UPDATE_KEYS = (*UPDATE_KEYS, "due_date", "confidential", "updated_at", "issue_type", "weight")


def today(store: Store) -> dt.date:
    return store.clock().date()


def render(
    store: Store,
    project: Record,
    issue: Record,
    base: str,
    req: ApiRequest | None = None,
    *,
    single: bool = False,
) -> Record:
    """Entities::Issue; ``subscribed`` only for a single issue (lists pass
    ``include_subscribed: false``, lib/api/issues.rb)."""
    out = entities.issuable(store, project, "Issue", issue, base, today(store))
    if single and req is not None:
        out["subscribed"] = subscribed(issue, req.user_id)
    if req is not None and req.bool("with_labels_details", False):
        # doc/api/issues.md: label objects instead of names, still sorted by title.
        labels = sorted(
            (store.labels[i] for i in issue["label_ids"] if i in store.labels),
            key=lambda lb: lb["name"],
        )
        out["labels"] = [entities.label_basic(lb) for lb in labels]
    return out


def find_issue(project: Record, iid: str) -> Record:
    issue = project["issues"].get(int(iid)) if iid.isdigit() else None
    if issue is None:
        raise not_found("Issue")
    return issue


def writable(project: Record, req: ApiRequest) -> None:
    """CI job tokens cannot write issues/notes; archived projects are read-only (403)."""
    if req.job_token or project["archived"]:
        raise forbidden()


def common_params(
    store: Store, project: Record, req: ApiRequest, *, metadata_level: int = PLANNER
) -> dict[str, Any]:
    """Update parameters shared by create and update, in ``apply_update`` terms.

    Labels, assignees, milestone, due date, confidentiality and lock are dropped, silently,
    for a user who may not set an issuable's metadata (IssuableBaseService#filter_params
    with ``set_issue_metadata``: Planner and up; ``set_merge_request_metadata``:
    Developer and up), as for a Guest creating an issue on GitLab."""
    params: dict[str, Any] = {}
    if req.has("title"):
        # Issuable: strip_attributes :title (leading/trailing whitespace is dropped).
        title = req.required_str("title").strip()
        if len(title) > MAX_TITLE:
            raise bad_request({"title": [f"is too long (maximum is {MAX_TITLE} characters)"]})
        params["title"] = title
    if req.has("state_event"):
        params["state_event"] = req.choice("state_event", ("close", "reopen"))
    if not (
        is_admin(store, req.user_id)
        or project_access_level(store, project, req.user_id) >= metadata_level
    ):
        return params
    if req.has("labels"):
        params["label_ids"] = ids_for_names(store, project, req.list("labels") or [], create=True)
    if req.has("add_labels"):
        params["add_label_ids"] = ids_for_names(
            store, project, req.list("add_labels") or [], create=True
        )
    if req.has("remove_labels"):
        params["remove_label_ids"] = ids_for_names(
            store, project, req.list("remove_labels") or [], create=False
        )
    if req.has("assignee_ids"):
        params["assignee_ids"] = [i for i in req.int_list("assignee_ids") or [] if i > 0]
    elif req.has("assignee_id"):
        single = req.int("assignee_id")
        params["assignee_ids"] = [single] if single else []
    if req.has("milestone_id"):
        ms_id = req.int("milestone_id")
        known = {m["id"] for m in project["milestones"]}
        params["milestone_id"] = ms_id if ms_id in known else None
    given, due = req.date("due_date")
    if given:
        params["due_date"] = due
    if req.has("confidential"):
        params["confidential"] = req.bool("confidential")
    if req.has("discussion_locked"):
        params["discussion_locked"] = req.bool("discussion_locked")
    return params


def _description(req: ApiRequest) -> str | None:
    if not req.has("description"):
        return None
    text = req.str("description") or ""
    # GitLab counts UTF-8 bytes, though the message says characters: issuable.rb
    # `validates :description, bytesize: { maximum: DESCRIPTION_LENGTH_MAX }`, and
    # app/validators/bytesize_validator.rb adds Rails' :too_long when value.bytesize > max.
    if len(text.encode("utf-8")) > MAX_DESCRIPTION:
        raise bad_request(
            {"description": [f"is too long (maximum is {MAX_DESCRIPTION} characters)"]}
        )
    return text


@route("POST", "/projects/:id/issues")
def post_issue(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    writable(project, req)
    title = req.required_str("title").strip()
    params = common_params(store, project, req)
    params.pop("state_event", None)
    description = _description(req)
    created_at = req.datetime("created_at")
    issue = new_issuable(
        store,
        project,
        "Issue",
        title=title,
        author_id=req.user_id,
        created_at=None if created_at is None else _iso(created_at),
    )
    if description is not None:
        outcome = interpret(store, project, "Issue", None, description, req.user_id, today(store))
        issue["description"] = outcome.text
        _merge(params, outcome.params)
    record_mentions(store, project, "Issue", issue, mentionable_text(issue), "description")
    # Creation itself is not a change: no system notes, but label events are recorded.
    apply_update(store, project, "Issue", issue, params, req.user_id, system_notes=False)
    issue["updated_at"] = issue["created_at"]
    project["last_activity_at"] = store.now()
    return render(store, project, issue, req.base_url, req, single=True)


def _merge(params: dict[str, Any], commands: dict[str, Any]) -> None:
    """Quick-action params win over request params; label lists are combined."""
    for key, value in commands.items():
        if key in ("add_label_ids", "remove_label_ids"):
            params[key] = list(params.get(key, [])) + list(value)
        else:
            params[key] = value


def _iso(moment: dt.datetime) -> str:
    from gl_csm.sandbox.store import iso

    return iso(moment)


def subscribed(issue: Record, user_id: int) -> bool:
    """Subscribable#subscribed?: an explicit (un)subscription, else whether the user
    takes part (author, assignee, commenter: Participable)."""
    if user_id in issue.get("unsubscribers", ()):
        return False
    if user_id in issue.get("subscribers", ()):
        return True
    return (
        issue["author_id"] == user_id
        or user_id in issue["assignee_ids"]
        or any(n["author_id"] == user_id and not n["system"] for n in issue["notes"])
    )


@route("GET", "/projects/:id/issues/:iid")
def get_issue(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    project = store.project(id)
    return render(store, project, find_issue(project, iid), req.base_url, req, single=True)


@route("PUT", "/projects/:id/issues/:iid")
def put_issue(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
    """``update_issue``: Planner and up, or the issue's author (policy.py)."""
    project = store.project(id)
    issue = find_issue(project, iid)
    writable(project, req)
    if issue.get("author_id") != req.user_id:
        require_project(store, project, req.user_id, PLANNER)
    if not any(req.has(k) for k in _UPDATE_KEYS):
        raise at_least_one_missing(*_UPDATE_KEYS)
    params = common_params(store, project, req)
    description = _description(req)
    if description is not None:
        outcome = interpret(store, project, "Issue", issue, description, req.user_id, today(store))
        params["description"] = outcome.text
        _merge(params, outcome.params)
    # ``updated_at`` is a DateTime (Grape: ``updated_at is invalid`` when it is not one)
    # and is kept only from an administrator or the project's Owner (lib/api/issues.rb
    # "Setting updated_at is allowed only for admins and owners").
    stamp = req.datetime("updated_at")
    apply_update(store, project, "Issue", issue, params, req.user_id)
    if stamp is not None and (
        is_admin(store, req.user_id) or project_access_level(store, project, req.user_id) >= 50
    ):
        issue["updated_at"] = iso(stamp)
    return render(store, project, issue, req.base_url, req, single=True)


@route("DELETE", "/projects/:id/issues/:iid")
def delete_issue(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    """204; only the project's Owner or an administrator (policy.py ROUTE_LEVELS;
    spec/requests/api/issues/issues_spec.rb "DELETE /projects/:id/issues/:issue_iid":
    ``it 'rejects a non owner'`` 403, ``it 'deletes the issue if an admin requests it'``
    204, ``it 'returns 404 when issue is not found'`` ``404 Issue Not Found``)."""
    project = store.project(id)
    issue = find_issue(project, iid)
    del project["issues"][issue["iid"]]
    return no_content()


# -- listing ----------------------------------------------------------------------


def filter_issues(
    store: Store, req: ApiRequest, pairs: list[tuple[Record, Record]], *, default_scope: str = "all"
) -> list[tuple[Record, Record]]:
    state = req.choice("state", ("opened", "closed", "all"), "all")
    if state != "all":
        pairs = [(p, i) for p, i in pairs if i["state"] == state]
    scope = req.choice(
        "scope",
        ("created_by_me", "assigned_to_me", "all", "created-by-me", "assigned-to-me"),
        default_scope,
    )
    if scope in ("created_by_me", "created-by-me"):
        pairs = [(p, i) for p, i in pairs if i["author_id"] == req.user_id]
    elif scope in ("assigned_to_me", "assigned-to-me"):
        pairs = [(p, i) for p, i in pairs if req.user_id in i["assignee_ids"]]

    labels = req.list("labels")
    if labels:
        pairs = [(p, i) for p, i in pairs if _has_labels(store, i, labels)]
    not_labels = _not_param(req, "labels")
    if not_labels:
        pairs = [(p, i) for p, i in pairs if not set(not_labels) & set(_names(store, i))]
    iids = req.int_list("iids")
    if iids:
        pairs = [(p, i) for p, i in pairs if i["iid"] in iids]
    milestone = req.str("milestone")
    if milestone:
        pairs = [(p, i) for p, i in pairs if _milestone_matches(p, i, milestone)]
    search = req.str("search")
    if search:
        pairs = _search(store, req, search, pairs)
    _check_assignee_params(store, req)
    for key, field in (("author_username", "author_id"), ("assignee_username", "assignee_ids")):
        wanted = req.list(key)
        if wanted:
            users = [store.user_by_username(w) for w in wanted]
            ids = {u["id"] for u in users if u}
            # Several assignee usernames: issues assigned to all of them (IssuableFinder
            # ``assigned_to_all``); an unknown name matches nothing.
            need = ids if len(ids) == len(wanted) else None
            pairs = (
                [(p, i) for p, i in pairs if need <= _user_field(i, field)]
                if need and field == "assignee_ids"
                else [(p, i) for p, i in pairs if _user_field(i, field) & ids]
                if ids and field == "author_id"
                else []
            )
    not_milestone = _not_param(req, "milestone")
    if not_milestone:
        pairs = [
            (p, i) for p, i in pairs if not any(_milestone_matches(p, i, m) for m in not_milestone)
        ]
    due = req.choice("due_date", _DUE_DATES)
    if due:
        pairs = [(p, i) for p, i in pairs if _due_matches(i.get("due_date"), due, today(store))]
    author_id = req.int("author_id")
    if author_id:
        pairs = [(p, i) for p, i in pairs if i["author_id"] == author_id]
    assignee = req.str("assignee_id")
    if assignee:
        if assignee.lower() == "none":
            pairs = [(p, i) for p, i in pairs if not i["assignee_ids"]]
        elif assignee.lower() == "any":
            pairs = [(p, i) for p, i in pairs if i["assignee_ids"]]
        elif assignee.isdigit():
            pairs = [(p, i) for p, i in pairs if int(assignee) in i["assignee_ids"]]
    confidential = req.bool("confidential")
    if confidential is not None:
        pairs = [(p, i) for p, i in pairs if i.get("confidential") == confidential]
    for key, field, newer in (
        ("created_after", "created_at", True),
        ("created_before", "created_at", False),
        ("updated_after", "updated_at", True),
        ("updated_before", "updated_at", False),
    ):
        moment = req.datetime(key)
        if moment is not None:
            pairs = [
                (p, i)
                for p, i in pairs
                if (parse_iso(i[field]) >= moment) == newer or parse_iso(i[field]) == moment
            ]

    order = req.choice(
        "order_by",
        (
            "created_at",
            "updated_at",
            "priority",
            "due_date",
            "relative_position",
            "label_priority",
            "milestone_due",
            "popularity",
            "weight",
            "title",
        ),
        "created_at",
    )
    key = order if order in ("updated_at", "due_date", "title") else "created_at"
    pairs.sort(key=lambda pi: (pi[1].get(key) is None, pi[1].get(key) or "", pi[1]["id"]))
    if req.choice("sort", ("asc", "desc"), "desc") == "desc":
        pairs.reverse()
    return pairs


def _search(
    store: Store, req: ApiRequest, search: str, pairs: list[tuple[Record, Record]]
) -> list[tuple[Record, Record]]:
    """GitLab's issue search (fulltext.py): full text for Latin-script queries, so a
    hidden ``<!-- marker -->`` is never found; ``Sandbox(search="none")`` finds nothing.

    ``in``: ``title``, ``description`` or both (lib/api/issues.rb); default both.
    """
    if store.search_mode == "none":
        return []
    # No `values:` check on `in`: unknown names are ignored, as in GitLab.
    matcher = search_filter(search, req.list("in") or [], ilike=store.search_mode == "ilike")
    return [(p, i) for p, i in pairs if matcher(i["title"], i["description"])]


def _names(store: Store, item: Record) -> list[str]:
    return [store.labels[i]["name"] for i in item["label_ids"] if i in store.labels]


def _has_labels(store: Store, item: Record, labels: list[str]) -> bool:
    names = _names(store, item)
    if [x.lower() for x in labels] == ["none"]:
        return not names
    if [x.lower() for x in labels] == ["any"]:
        return bool(names)
    return all(lb in names for lb in labels)


_DUE_DATES = (
    "",
    "0",
    "any",
    "today",
    "tomorrow",
    "overdue",
    "week",
    "month",
    "next_month_and_previous_two_weeks",
)


def _check_assignee_params(store: Store, req: ApiRequest) -> None:
    """lib/api/helpers/issues_helpers.rb: ``mutually_exclusive :assignee_id,
    :assignee_username``; ``assignee_username`` has ``check_assignees_count``
    (lib/api/validations/validators/check_assignees_count.rb): one value, unless the
    tier has multiple assignees (EE ``multiple_issue_assignees``, Premium)."""
    if req.has("assignee_id") and req.has("assignee_username"):
        raise ApiError(400, {"error": "assignee_id, assignee_username are mutually exclusive"})
    names = req.list("assignee_username") or []
    if len(names) > 1 and not is_paid(store.edition):
        raise ApiError(
            400,
            {
                "error": f"assignee_username allows one value, but found {len(names)}: "
                f"{', '.join(names)}"
            },
        )


def _due_matches(due: str | None, wanted: str, now: dt.date) -> bool:
    """IssuesFinder#by_due_date ("0" none, any, overdue: before today, today, tomorrow,
    this week Monday to Sunday, this month, two weeks ago to the end of next month)."""
    if wanted in ("", "0"):
        return due is None
    if due is None:
        return False
    day = dt.date.fromisoformat(due)
    if wanted == "any":
        return True
    if wanted == "overdue":
        return day < now
    if wanted == "today":
        return day == now
    if wanted == "tomorrow":
        return day == now + dt.timedelta(days=1)
    if wanted == "week":
        monday = now - dt.timedelta(days=now.weekday())
        return monday <= day <= monday + dt.timedelta(days=6)
    if wanted == "month":
        return (day.year, day.month) == (now.year, now.month)
    nxt = (now.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end_next = (nxt + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return now - dt.timedelta(days=14) <= day <= end_next


def _not_param(req: ApiRequest, name: str) -> list[str]:
    nested = req.params.get("not")
    if isinstance(nested, dict) and name in nested:
        value = nested[name]
        return value if isinstance(value, list) else [v for v in str(value).split(",") if v]
    return req.list(f"not[{name}]") or []


def _milestone_matches(project: Record, item: Record, wanted: str) -> bool:
    if wanted.lower() == "none":
        return item["milestone_id"] is None
    if wanted.lower() == "any":
        return item["milestone_id"] is not None
    ms = next((m for m in project["milestones"] if m["id"] == item["milestone_id"]), None)
    return ms is not None and ms["title"] == wanted


def _user_field(item: Record, field: str) -> set[int]:
    value = item[field]
    return set(value) if isinstance(value, list) else {value}


def _list(store: Store, req: ApiRequest, projects: list[Record], default_scope: str) -> Reply:
    def build() -> list[tuple[Record, Record]]:
        pairs = [(p, i) for p in projects for i in p["issues"].values()]
        return filter_issues(store, req, pairs, default_scope=default_scope)

    # The same listing whatever the page asked (Store.listing): its user, path and
    # filters are the key.
    filters = tuple(sorted((k, repr(v)) for k, v in req.params.items() if k != "page"))
    key = ("issues", req.user_id, req.job_token, req.path, default_scope, filters)
    pairs = store.listing(key, build)
    return paginate(req, pairs, lambda pi: render(store, pi[0], pi[1], req.base_url, req))


@route("GET", "/projects/:id/issues")
def list_project_issues(store: Store, req: ApiRequest, id: str) -> Reply:
    return _list(store, req, [store.project(id)], "all")


def _readable(store: Store, req: ApiRequest, projects: list[Record]) -> list[Record]:
    """The projects whose issues the user may see (IssuesFinder: projects the user can
    read)."""
    return [p for p in projects if can_read_project(store, p, req.user_id)]


def _non_archived(req: ApiRequest, projects: list[Record]) -> list[Record]:
    """``non_archived`` (default true on ``/issues`` and ``/groups/:id/issues``,
    lib/api/issues.rb): archived projects' issues are left out unless it is false."""
    if req.bool("non_archived", True):
        return [p for p in projects if not p["archived"]]
    return projects


@route("GET", "/groups/:id/issues")
def list_group_issues(store: Store, req: ApiRequest, id: str) -> Reply:
    group = store.group(id)
    spaces = {n["id"] for n in store.descendants(group)}
    projects = [p for p in store.projects.values() if p["namespace_id"] in spaces]
    return _list(store, req, _non_archived(req, _readable(store, req, projects)), "all")


@route("GET", "/issues")
def list_all_issues(store: Store, req: ApiRequest) -> Reply:
    """``scope`` defaults to ``created_by_me`` here (doc/api/issues.md, "List issues")."""
    projects = _readable(store, req, list(store.projects.values()))
    return _list(store, req, _non_archived(req, projects), "created_by_me")


# -- resource label events ------------------------------------------------------------


def label_event(store: Store, kind: str, item: Record, event: Record, base: str) -> Record:
    label = store.labels.get(event["label_id"])
    return {
        "id": event["id"],
        "user": entities.user_basic(store, event["user_id"], base),
        "created_at": event["created_at"],
        "resource_type": kind,
        "resource_id": item["id"],
        "label": entities.label_basic(label) if label else None,
        "action": event["action"],
    }


@route("GET", "/projects/:id/issues/:iid/resource_label_events")
def list_issue_label_events(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
    issue = find_issue(store.project(id), iid)
    return paginate(
        req, [label_event(store, "Issue", issue, e, req.base_url) for e in issue["label_events"]]
    )


@route("GET", "/projects/:id/issues/:iid/resource_label_events/:event_id")
def get_issue_label_event(store: Store, req: ApiRequest, id: str, iid: str, event_id: str) -> Any:
    issue = find_issue(store.project(id), iid)
    for event in issue["label_events"]:
        if str(event["id"]) == event_id:
            return label_event(store, "Issue", issue, event, req.base_url)
    raise not_found("Label event")
