"""Notes on issues and merge requests (doc/api/notes.md).

- Listing defaults to ``order_by=created_at``, ``sort=desc`` and includes system notes.
- ``body`` is limited to 1,000,000 characters.
- Quick actions in a note run and are removed from it; a note made only of
  quick actions is not stored and the answer is 202 with ``commands_changes``
  and ``summary`` (lib/api/helpers/notes_helpers.rb, process_note_creation_result).
- Creating a note touches the issue's ``updated_at`` (Note belongs_to noteable, touch).
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, bad_request, not_found, ruby_errors
from gl_csm.sandbox.issuables import MAX_BODY, add_note, apply_update, record_mentions
from gl_csm.sandbox.issues import find_issue, today, writable
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.policy import MAINTAINER, is_admin, require_project
from gl_csm.sandbox.quick_actions import interpret
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store, iso

_KINDS = {"issues": "Issue", "merge_requests": "MergeRequest"}


def _noteable(store: Store, segment: str, id: str, iid: str) -> tuple[Record, Record]:
    project = store.project(id)
    if segment == "issues":
        return project, find_issue(project, iid)
    item = project["merge_requests"].get(int(iid)) if iid.isdigit() else None
    if item is None:
        raise not_found("Merge Request")
    return project, item


def _note(item: Record, note_id: str) -> Record:
    for note in item["notes"]:
        if str(note["id"]) == note_id:
            return note
    raise not_found("Note")


def _too_long(body: str) -> None:
    if len(body) > MAX_BODY:
        errors = ruby_errors({"note": [f"is too long (maximum is {MAX_BODY} characters)"]})
        raise bad_request(f"400 Bad request - Note {errors}")


def _list(store: Store, req: ApiRequest, segment: str, id: str, iid: str) -> Reply:
    project, item = _noteable(store, segment, id, iid)
    notes = list(item["notes"])
    activity = req.choice(
        "activity_filter", ("all_notes", "only_comments", "only_activity"), "all_notes"
    )
    if activity == "only_comments":
        notes = [n for n in notes if not n["system"]]
    elif activity == "only_activity":
        notes = [n for n in notes if n["system"]]
    order = req.choice("order_by", ("created_at", "updated_at"), "created_at")
    assert order is not None
    notes.sort(key=lambda n: (n[order], n["id"]))
    if req.choice("sort", ("asc", "desc"), "desc") == "desc":
        notes.reverse()
    kind = _KINDS[segment]
    return paginate(
        req, [entities.note(store, project, kind, item, n, req.base_url) for n in notes]
    )


def _get(store: Store, req: ApiRequest, segment: str, id: str, iid: str, note_id: str) -> Any:
    project, item = _noteable(store, segment, id, iid)
    return entities.note(store, project, _KINDS[segment], item, _note(item, note_id), req.base_url)


def _create(store: Store, req: ApiRequest, segment: str, id: str, iid: str) -> Any:
    project, item = _noteable(store, segment, id, iid)
    writable(project, req)
    kind = _KINDS[segment]
    body = req.str("body", required=True) or ""
    if not body.strip():
        # ``requires :body, type: String`` lets a blank body through to the Note model
        # (lib/api/notes.rb), whose presence validation fails: ``bad_request!`` with the
        # errors (lib/api/helpers/notes_helpers.rb ``process_note_creation_result``).
        errors = ruby_errors({"note": ["can't be blank"]})
        raise bad_request(f"400 Bad request - Note {errors}")
    _too_long(body)
    outcome = interpret(store, project, kind, item, body, req.user_id, today(store))
    if outcome.only_commands:
        if outcome.errors and not outcome.messages:
            raise bad_request("400 Bad request - " + ", ".join(outcome.errors))
        apply_update(store, project, kind, item, outcome.params, req.user_id)
        return Reply(202, {"commands_changes": outcome.params, "summary": outcome.messages})
    created = req.datetime("created_at")
    note = add_note(
        store,
        item,
        body=outcome.text,
        author_id=req.user_id,
        internal=bool(req.bool("internal", False) or req.bool("confidential", False)),
        created_at=iso(created) if created else None,
    )
    record_mentions(store, project, kind, item, note["body"], "note")
    if outcome.params:
        note["commands_changes"] = outcome.params
        apply_update(store, project, kind, item, outcome.params, req.user_id)
    item["updated_at"] = store.now()
    project["last_activity_at"] = item["updated_at"]
    rendered = entities.note(store, project, kind, item, note, req.base_url)
    note.pop("commands_changes", None)
    return rendered


def _update(store: Store, req: ApiRequest, segment: str, id: str, iid: str, note_id: str) -> Any:
    project, item = _noteable(store, segment, id, iid)
    writable(project, req)
    kind = _KINDS[segment]
    note = _note(item, note_id)
    if note["system"] or (note["author_id"] != req.user_id and not is_admin(store, req.user_id)):
        # NotePolicy: only the author edits a note (``admin_note``), system notes never.
        raise ApiError(403, {"message": "403 Forbidden"})
    if not req.has("body"):
        raise ApiError(400, {"error": "body is missing"})
    body = req.required_str("body")
    _too_long(body)
    outcome = interpret(store, project, kind, item, body, req.user_id, today(store))
    if outcome.params:
        apply_update(store, project, kind, item, outcome.params, req.user_id)
    if outcome.text != note["body"]:
        previous = note["body"]
        note["body"] = outcome.text
        note["updated_at"] = store.now()
        record_mentions(store, project, kind, item, note["body"], "note", previous=previous)
    return entities.note(store, project, kind, item, note, req.base_url)


def _delete(store: Store, req: ApiRequest, segment: str, id: str, iid: str, note_id: str) -> Reply:
    """204 (spec/requests/api/notes_spec.rb, shared "noteable API" ``DELETE
    /projects/:id/noteable/:noteable_id/notes/:note_id``: ``it 'deletes a note'``;
    ``404 Note Not Found`` for an unknown one): the author, or a Maintainer
    (``admin_note`` on the project)."""
    project, item = _noteable(store, segment, id, iid)
    writable(project, req)
    note = _note(item, note_id)
    if note["author_id"] != req.user_id:
        require_project(store, project, req.user_id, MAINTAINER)
    item["notes"].remove(note)
    return no_content()


for _segment in _KINDS:

    def _bind(segment: str) -> None:
        @route("GET", f"/projects/:id/{segment}/:iid/notes")
        def list_notes(store: Store, req: ApiRequest, id: str, iid: str) -> Reply:
            return _list(store, req, segment, id, iid)

        @route("GET", f"/projects/:id/{segment}/:iid/notes/:note_id")
        def get_note(store: Store, req: ApiRequest, id: str, iid: str, note_id: str) -> Any:
            return _get(store, req, segment, id, iid, note_id)

        @route("POST", f"/projects/:id/{segment}/:iid/notes")
        def post_note(store: Store, req: ApiRequest, id: str, iid: str) -> Any:
            return _create(store, req, segment, id, iid)

        @route("PUT", f"/projects/:id/{segment}/:iid/notes/:note_id")
        def put_note(store: Store, req: ApiRequest, id: str, iid: str, note_id: str) -> Any:
            return _update(store, req, segment, id, iid, note_id)

        @route("DELETE", f"/projects/:id/{segment}/:iid/notes/:note_id")
        def delete_note(store: Store, req: ApiRequest, id: str, iid: str, note_id: str) -> Reply:
            return _delete(store, req, segment, id, iid, note_id)

    _bind(_segment)
