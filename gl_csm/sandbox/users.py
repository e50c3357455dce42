"""Users and namespaces (doc/api/users.md, doc/api/namespaces.md)."""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, forbidden, not_found
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Store


@route("GET", "/user")
def current_user(store: Store, req: ApiRequest) -> Any:
    return entities.user_full(store, store.users[req.user_id], req.base_url, current=True)


@route("GET", "/users")
def list_users(store: Store, req: ApiRequest) -> Reply:
    users = sorted(store.users.values(), key=lambda u: u["id"])
    username = req.str("username")
    if username is not None:
        users = [u for u in users if u["username"].lower() == username.lower()]
    search = req.str("search")
    if search:
        s = search.lower()
        users = [
            u
            for u in users
            if s in u["username"].lower() or s in u["name"].lower() or s == u["email"].lower()
        ]
    return paginate(req, users, lambda u: entities.user_basic(store, u["id"], req.base_url))


@route("GET", "/users/:user_id")
def get_user(store: Store, req: ApiRequest, user_id: str) -> Any:
    if not user_id.isdigit():
        raise not_found("User")
    return entities.user_full(store, store.user(int(user_id)), req.base_url)


@route("POST", "/users")
def create_user(store: Store, req: ApiRequest) -> Any:
    """Admin-only user creation (doc/api/users.md, "Create a user")."""
    if req.job_token:
        raise forbidden()
    missing = [n for n in ("email", "name", "username") if not req.has(n)]
    if missing:
        raise ApiError(400, {"error": ", ".join(f"{n} is missing" for n in missing)})
    username = req.required_str("username")
    if store.user_by_username(username):
        raise ApiError(409, {"message": "Username has already been taken"})
    user = store.ensure_user(
        username,
        name=req.str("name"),
        email=req.str("email"),
        is_admin=bool(req.bool("admin", False)),
    )
    return entities.user_full(store, user, req.base_url)


@route("GET", "/namespaces")
def list_namespaces(store: Store, req: ApiRequest) -> Reply:
    spaces = sorted(store.namespaces.values(), key=lambda n: n["id"])
    search = req.str("search")
    if search:
        spaces = [n for n in spaces if search.lower() in store.full_path(n).lower()]
    return paginate(req, spaces, lambda n: entities.namespace(store, n, req.base_url))


@route("GET", "/namespaces/:ns_id")
def get_namespace(store: Store, req: ApiRequest, ns_id: str) -> Any:
    ns = store.find_namespace(ns_id)
    if ns is None:
        raise not_found("Namespace")
    return entities.namespace(store, ns, req.base_url)


@route("GET", "/version")
def version(store: Store, req: ApiRequest) -> Any:
    return {"version": "17.0.0-sandbox", "revision": "sandbox", "enterprise": True}


@route("GET", "/metadata")
def metadata(store: Store, req: ApiRequest) -> Any:
    return {
        "version": "17.0.0-sandbox",
        "revision": "sandbox",
        "kas": {"enabled": False},
        "enterprise": True,
    }
