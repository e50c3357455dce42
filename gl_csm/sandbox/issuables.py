"""Changes to issues and merge requests, with the side effects GitLab records.

One function applies a set of update parameters (the same keys quick actions
produce, see ``quick_actions.py``) and records what GitLab records:

- label changes as resource label events (doc/api/resource_label_events.md),
  never as notes;
- assignee, title, description, due date, confidentiality and lock changes as
  system notes (``system: true``, doc/api/notes.md);
- new ``@mentions`` in text, so tests can see who would be notified;
- assignees filtered as GitLab filters them (``filter_assignees``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gl_csm.sandbox.editions import is_paid
from gl_csm.sandbox.labels_model import apply_exclusive
from gl_csm.sandbox.markdown import mentioned_names
from gl_csm.sandbox.permissions import can_read_project
from gl_csm.sandbox.store import Record, Store

MAX_BODY = 1_000_000  # notes: doc/api/notes.md
MAX_DESCRIPTION = 1_048_576  # issues, UTF-8 bytes: app/models/concerns/issuable.rb
MAX_TITLE = 255

#: The update keys issues and merge requests share (lib/api/helpers/common_helpers.rb
#: and the two endpoints' ``at_least_one_of``); each endpoint adds its own.
UPDATE_KEYS = (
    "title",
    "description",
    "labels",
    "add_labels",
    "remove_labels",
    "state_event",
    "assignee_ids",
    "assignee_id",
    "milestone_id",
    "discussion_locked",
)


def new_issuable(
    store: Store,
    project: Record,
    kind: str,
    *,
    title: str,
    author_id: int,
    created_at: str | None = None,
) -> Record:
    counter = "issue_iid" if kind == "Issue" else "mr_iid"
    counters = project["counters"]
    counters[counter] = counters.get(counter, 0) + 1
    iid = counters[counter]
    now = created_at or store.now()
    item: Record = {
        "id": store.next_id("issue" if kind == "Issue" else "merge_request"),
        "iid": iid,
        "title": title,
        # Never given: null, as GitLab (post_projects_issues_spec.rb 'creates a new
        # project issue': ``expect(json_response['description']).to be_nil``).
        "description": None,
        "state": "opened",
        "author_id": author_id,
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "closed_by_id": None,
        "label_ids": [],
        "assignee_ids": [],
        "milestone_id": None,
        "due_date": None,
        "confidential": False,
        "discussion_locked": None,
        "notes": [],
        "label_events": [],
    }
    if kind == "Issue":
        project["issues"][iid] = item
    else:
        project["merge_requests"][iid] = item
    return item


def apply_update(
    store: Store,
    project: Record,
    kind: str,
    item: Record,
    params: dict[str, Any],
    actor_id: int,
    *,
    system_notes: bool = True,
) -> bool:
    """Apply update params; return whether anything changed (updated_at bumps only then)."""
    now = store.now()
    changed = False
    notes: list[str] = []
    noun = "issue" if kind == "Issue" else "merge request"
    mentionable_before = mentionable_text(item)

    if "title" in params and params["title"] != item["title"]:
        if system_notes:
            notes.append(f"changed title from **{item['title']}** to **{params['title']}**")
        item["title"] = params["title"]
        changed = True

    if "description" in params and (params["description"] or "") != (item["description"] or ""):
        item["description"] = params["description"]
        if system_notes:
            notes.append("changed the description")
        changed = True

    if _apply_labels(store, item, params, actor_id, now):
        changed = True

    assignees = (
        filter_assignees(store, project, params["assignee_ids"])
        if "assignee_ids" in params
        else None
    )
    if assignees is not None:
        new = assignees
        old = item["assignee_ids"]
        if new != old:
            added = [store.users[u]["username"] for u in new if u not in old]
            removed = [store.users[u]["username"] for u in old if u not in new]
            parts = []
            if added:
                parts.append("assigned to " + _and(["@" + n for n in added]))
            if removed:
                parts.append("unassigned " + _and(["@" + n for n in removed]))
            if system_notes:
                notes.append(" and ".join(parts))
            item["assignee_ids"] = new
            changed = True

    if "milestone_id" in params and params["milestone_id"] != item["milestone_id"]:
        item["milestone_id"] = params["milestone_id"]
        changed = True

    if "due_date" in params and params["due_date"] != item.get("due_date") and kind == "Issue":
        item["due_date"] = params["due_date"]
        if system_notes:
            notes.append(
                f"changed due date to {_long_date(params['due_date'])}"
                if params["due_date"]
                else "removed due date"
            )
        changed = True

    if (
        "confidential" in params
        and kind == "Issue"
        and params["confidential"] is not None
        and bool(params["confidential"]) != item["confidential"]
    ):
        item["confidential"] = bool(params["confidential"])
        if system_notes:
            notes.append(
                "made the issue confidential"
                if item["confidential"]
                else "made the issue visible to everyone"
            )
        changed = True

    if (
        "discussion_locked" in params
        and params["discussion_locked"] is not None
        and bool(params["discussion_locked"]) != bool(item["discussion_locked"])
    ):
        item["discussion_locked"] = bool(params["discussion_locked"])
        if system_notes:
            notes.append(
                f"{'locked' if item['discussion_locked'] else 'unlocked'} "
                f"the discussion in this {noun}"
            )
        changed = True

    event = params.get("state_event")
    if event == "close" and item["state"] == "opened":
        item.update(state="closed", closed_at=now, closed_by_id=actor_id)
        changed = True
    elif event == "reopen" and item["state"] == "closed":
        item.update(state="opened", closed_at=None, closed_by_id=None)
        changed = True

    if mentionable_text(item) != mentionable_before:
        record_mentions(
            store,
            project,
            kind,
            item,
            mentionable_text(item),
            "description",
            previous=mentionable_before,
        )
    for text in notes:
        add_note(store, item, body=text, author_id=actor_id, system=True, created_at=now)
    if changed:
        item["updated_at"] = now
        project["last_activity_at"] = now
    return changed


def filter_assignees(store: Store, project: Record, wanted: list[int]) -> list[int] | None:
    """IssuableBaseService#filter_assignees_using_checks: the assignees GitLab keeps, or
    ``None`` when the parameter is dropped (the issue keeps its assignees).

    An empty list unassigns. Without Premium only the first id is kept
    (``Issue#allows_multiple_assignees?``), and that before the check; users who cannot
    read the project (permissions.py) are dropped silently; if none is left the
    parameter is ignored: on create the issue has no assignee, on update the old stay.
    """
    ids = list(dict.fromkeys(wanted))
    if not ids:
        return []
    if not is_paid(store.edition):
        ids = ids[:1]
    readable = [uid for uid in ids if can_read_project(store, project, uid)]
    return readable or None


def _apply_labels(
    store: Store, item: Record, params: dict[str, Any], actor_id: int, now: str
) -> bool:
    if not any(k in params for k in ("label_ids", "add_label_ids", "remove_label_ids")):
        return False
    old = list(item["label_ids"])
    # `labels` replaces the set; add/remove (REST or quick actions) then apply on top,
    # as IssuableBaseService#process_label_ids does.
    start = apply_exclusive(store, [], params["label_ids"]) if "label_ids" in params else old
    remove = set(params.get("remove_label_ids", []))
    new = apply_exclusive(
        store,
        [i for i in start if i not in remove],
        [i for i in params.get("add_label_ids", []) if i not in remove],
    )
    if new == old:
        return False
    for label_id in old:
        if label_id not in new:
            _label_event(store, item, label_id, "remove", actor_id, now)
    for label_id in new:
        if label_id not in old:
            _label_event(store, item, label_id, "add", actor_id, now)
    item["label_ids"] = new
    return True


def _label_event(
    store: Store, item: Record, label_id: int, action: str, actor_id: int, now: str
) -> None:
    item["label_events"].append(
        {
            "id": store.next_id("label_event"),
            "user_id": actor_id,
            "created_at": now,
            "label_id": label_id,
            "action": action,
        }
    )


def add_note(
    store: Store,
    item: Record,
    *,
    body: str,
    author_id: int,
    system: bool = False,
    internal: bool = False,
    created_at: str | None = None,
) -> Record:
    now = created_at or store.now()
    note = {
        "id": store.next_id("note"),
        "body": body,
        "author_id": author_id,
        "created_at": now,
        "updated_at": now,
        "system": system,
        "internal": internal,
    }
    item["notes"].append(note)
    return note


def mentionable_text(item: Record) -> str:
    """Title and description both mention (Issuable: attr_mentionable :title, :description)."""
    return f"{item['title']}\n{item['description'] or ''}"


def record_mentions(
    store: Store,
    project: Record,
    kind: str,
    item: Record,
    text: str,
    source: str,
    *,
    previous: str = "",
) -> None:
    """Record users that GitLab would notify: mentions that are new in ``text``."""
    before = {n.lower() for n in mentioned_names(previous)}
    for name in mentioned_names(text):
        if name.lower() in before:
            continue
        user = store.user_by_username(name)
        if user is None and name.lower() != "all":
            continue
        store.mentions.append(
            {
                "project": store.project_path(project),
                "noteable_type": kind,
                "noteable_iid": item["iid"],
                "username": user["username"] if user else "all",
                "source": source,
            }
        )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _long_date(iso_date: str) -> str:
    day = dt.date.fromisoformat(iso_date)
    return f"{day.strftime('%B')} {day.day}, {day.year}"
