"""Group and project members (doc/api/members.md, lib/api/members.rb).

``/members`` lists direct members only; ``/members/all`` adds members inherited
from ancestor groups, each user once with the highest access level. Adding an
existing member answers 409 ``Member already exists``; a level below the user's
inherited group level answers 400 (``Member#higher_access_level_than_group``).
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import (
    ApiError,
    bad_request,
    conflict,
    exactly_one_missing,
    forbidden,
    invalid,
    missing,
    not_found,
    record_not_found,
)
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.permissions import HUMAN_ACCESS, highest_group_member, project_access_level
from gl_csm.sandbox.policy import (
    MAINTAINER,
    OWNER,
    group_access_level,
    is_admin,
    require_group,
    require_project,
)
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

VALID_LEVELS = (5, 10, 15, 20, 30, 40, 50)


def add_member(
    store: Store,
    holder: Record,
    user_id: int,
    level: int,
    actor_id: int,
    expires_at: str | None = None,
) -> Record:
    entry = {
        "user_id": user_id,
        "access_level": level,
        "created_at": store.now(),
        "created_by_id": actor_id,
        "expires_at": expires_at,
    }
    holder["members"].append(entry)
    return entry


def _holder(store: Store, kind: str, ident: str) -> Record:
    return store.group(ident) if kind == "groups" else store.project(ident)


def _inherited(store: Store, kind: str, holder: Record) -> list[Record]:
    """Direct members first, then ancestors'; each user once, highest level wins."""
    chain = store.ancestors(holder) if kind == "groups" else [holder, *store.project_groups(holder)]
    best: dict[int, Record] = {}
    for source in chain:
        for entry in source["members"]:
            held = best.get(entry["user_id"])
            if held is None or entry["access_level"] > held["access_level"]:
                best[entry["user_id"]] = entry
    return list(best.values())


def _filter(store: Store, req: ApiRequest, entries: list[Record]) -> list[Record]:
    query = req.str("query")
    user_ids = req.int_list("user_ids")
    out = []
    for entry in entries:
        user = store.users.get(entry["user_id"])
        if user is None:
            continue
        if (
            query
            and query.lower() not in user["username"].lower()
            and query.lower() not in user["name"].lower()
        ):
            continue
        if user_ids and entry["user_id"] not in user_ids:
            continue
        out.append(entry)
    return out


def _list(store: Store, req: ApiRequest, kind: str, ident: str, *, inherited: bool) -> Reply:
    holder = _holder(store, kind, ident)
    entries = _inherited(store, kind, holder) if inherited else list(holder["members"])
    entries = _filter(store, req, entries)
    return paginate(req, entries, lambda e: entities.member(store, e, req.base_url))


def _level(req: ApiRequest) -> int:
    level = req.int("access_level", required=True)
    if level not in VALID_LEVELS:
        raise invalid("access_level")
    assert level is not None
    return level


def _check_inherited(store: Store, kind: str, holder: Record, user_id: int, level: int) -> None:
    """Member#higher_access_level_than_group: a membership below the user's highest
    inherited group level is invalid; the API renders it with render_validation_error!
    (400 ``{"message": {"access_level": [...]}}``, lib/api/members.rb)."""
    found = highest_group_member(store, holder, user_id, project=kind == "projects")
    if found is None or found[0]["access_level"] <= level:
        return
    entry, group = found
    raise bad_request(
        {
            "access_level": [
                f"should be greater than or equal to {HUMAN_ACCESS[entry['access_level']]} "
                f"inherited membership from group {group['name']}"
            ]
        }
    )


def _expires_at(store: Store, req: ApiRequest) -> str | None:
    """``expires_at``: a date (Grape: ``expires_at is invalid``), not in the past (Member
    ``validates :expires_at, future_date: true``: 400 ``{"expires_at": ["cannot be a date
    in the past"]}``, members_spec.rb "when set to a date in the past")."""
    given, value = req.date("expires_at")
    if not given or value is None:
        return None
    if value < store.clock().date().isoformat():
        raise bad_request({"expires_at": ["cannot be a date in the past"]})
    return value


def _create(store: Store, req: ApiRequest, kind: str, ident: str) -> Any:
    holder = _holder(store, kind, ident)
    names = [n for n in ("access_level",) if not req.has(n)]
    if not req.has("user_id") and not req.has("username"):
        raise exactly_one_missing("user_id", "username")
    if names:
        raise missing(*names)
    level = _level(req)
    _check_owner_grant(store, kind, holder, req.user_id, level)
    expires = _expires_at(store, req)
    if req.has("username"):
        user = store.user_by_username(req.str("username") or "")
        if user is None:
            raise not_found("User")
        user_ids = [user["id"]]
    else:
        raw_ids = req.str("user_id") or ""
        if "," in raw_ids:
            return _create_many(store, req, kind, holder, raw_ids, level, expires)
        user_ids = [int(x) for x in raw_ids.split(",") if x.strip().isdigit()]
        if not user_ids:
            raise not_found("User")
        for uid in user_ids:
            store.user(uid)
    for uid in user_ids:
        if any(e["user_id"] == uid for e in holder["members"]):
            raise conflict("Member already exists")
    for uid in user_ids:
        _check_inherited(store, kind, holder, uid, level)
    entries = [add_member(store, holder, uid, level, req.user_id, expires) for uid in user_ids]
    return entities.member(store, entries[0], req.base_url)


def _create_many(
    store: Store,
    req: ApiRequest,
    kind: str,
    holder: Record,
    raw_ids: str,
    level: int,
    expires: str | None,
) -> Reply:
    """Several ``user_id`` separated by commas: Members::CreateService, whose result is
    the answer (lib/api/members.rb; members_spec.rb "when executing the
    Members::CreateService for multiple user_ids": ``it 'returns success when it
    successfully create all members'``, 201 ``{"status": "success"}``), or ``{"status":
    "error", "message": ...}`` naming the users it could not add (its errors
    ``to_sentence``: ``"username: error"``; an unknown id ``Unable to find User ID``).
    An existing member is set to the level (``add_members``)."""
    errors: list[str] = []
    for part in raw_ids.split(","):
        part = part.strip()
        user = store.users.get(int(part)) if part.isdigit() else None
        if user is None:
            if "Unable to find User ID" not in errors:
                errors.append("Unable to find User ID")
            continue
        try:
            _check_inherited(store, kind, holder, user["id"], level)
        except ApiError as exc:
            reason = exc.body["message"]["access_level"][0]
            errors.append(f"{user['username']}: Access level {reason}")
            continue
        entry = next((e for e in holder["members"] if e["user_id"] == user["id"]), None)
        if entry is None:
            add_member(store, holder, user["id"], level, req.user_id, expires)
        else:
            entry["access_level"] = level
            entry["expires_at"] = expires
    if errors:
        return Reply(201, {"status": "error", "message": _to_sentence(errors)})
    return Reply(201, {"status": "success"})


def _to_sentence(items: list[str]) -> str:
    """ActiveSupport's Array#to_sentence."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _check_owner_grant(store: Store, kind: str, holder: Record, actor: int, level: int) -> None:
    """Only an Owner (or an administrator) gives the Owner role (members_spec.rb "when the
    user has the rights to manage members but tries to manage members with a higher
    access level": ``it_behaves_like 'a 403 response when user does not have rights to
    manage members of a specific access level'``)."""
    if level < OWNER or is_admin(store, actor):
        return
    have = (
        group_access_level(store, holder, actor)
        if kind == "groups"
        else project_access_level(store, holder, actor)
    )
    if have < OWNER:
        raise forbidden()


def _update(store: Store, req: ApiRequest, kind: str, ident: str, user_id: str) -> Any:
    holder = _holder(store, kind, ident)
    entry = next((e for e in holder["members"] if str(e["user_id"]) == user_id), None)
    if entry is None:
        raise record_not_found()
    level = _level(req)
    _check_inherited(store, kind, holder, entry["user_id"], level)
    _check_owner_grant(store, kind, holder, req.user_id, level)
    expires = _expires_at(store, req)
    entry["access_level"] = level
    if req.has("expires_at"):
        entry["expires_at"] = expires
    return entities.member(store, entry, req.base_url)


def _get(
    store: Store, req: ApiRequest, kind: str, ident: str, user_id: str, *, inherited: bool
) -> Any:
    holder = _holder(store, kind, ident)
    entries = _inherited(store, kind, holder) if inherited else holder["members"]
    entry = next((e for e in entries if str(e["user_id"]) == user_id), None)
    if entry is None:
        raise record_not_found()
    return entities.member(store, entry, req.base_url)


def _delete(store: Store, req: ApiRequest, kind: str, ident: str, user_id: str) -> Reply:
    """``DELETE /:source/:id/members/:user_id``: 204; a member may remove themself,
    anyone else needs ``admin_*_member`` (Maintainer of a project, Owner of a group);
    a user who is not a direct member is 404 (members_spec.rb "DELETE
    /:source_type/:id/members/:user_id": ``it 'deletes the member'``, ``it 'returns
    404 if member does not exist'``, ``it 'returns 403'`` for a stranger)."""
    holder = _holder(store, kind, ident)
    if str(req.user_id) != user_id:
        if kind == "groups":
            require_group(store, holder, req.user_id, OWNER)
        else:
            require_project(store, holder, req.user_id, MAINTAINER)
    entry = next((e for e in holder["members"] if str(e["user_id"]) == user_id), None)
    if entry is None:
        raise record_not_found()
    holder["members"].remove(entry)
    return no_content()


for _kind in ("groups", "projects"):

    def _bind(kind: str) -> None:
        @route("GET", f"/{kind}/:id/members")
        def list_direct(store: Store, req: ApiRequest, id: str) -> Reply:
            return _list(store, req, kind, id, inherited=False)

        @route("GET", f"/{kind}/:id/members/all")
        def list_all(store: Store, req: ApiRequest, id: str) -> Reply:
            return _list(store, req, kind, id, inherited=True)

        @route("GET", f"/{kind}/:id/members/all/:user_id")
        def get_all(store: Store, req: ApiRequest, id: str, user_id: str) -> Any:
            return _get(store, req, kind, id, user_id, inherited=True)

        @route("GET", f"/{kind}/:id/members/:user_id")
        def get_direct(store: Store, req: ApiRequest, id: str, user_id: str) -> Any:
            return _get(store, req, kind, id, user_id, inherited=False)

        @route("POST", f"/{kind}/:id/members")
        def create(store: Store, req: ApiRequest, id: str) -> Any:
            return _create(store, req, kind, id)

        @route("PUT", f"/{kind}/:id/members/:user_id")
        def update(store: Store, req: ApiRequest, id: str, user_id: str) -> Any:
            return _update(store, req, kind, id, user_id)

        @route("DELETE", f"/{kind}/:id/members/:user_id")
        def delete(store: Store, req: ApiRequest, id: str, user_id: str) -> Reply:
            return _delete(store, req, kind, id, user_id)

    _bind(_kind)
