"""What a preflight reads about the instance and the token.

* ``GET /personal_access_tokens/self`` (doc/api/personal_access_tokens.md, "Self-inform"):
  the token used for the request: ``scopes``, ``expires_at``, ``active``, ``revoked``.
* ``GET /license`` (doc/api/license.md): administrators only (403 otherwise); the
  emulated edition's plan, ``null`` for Free (an EE instance without a license).
* Tokens: the sandbox accepts any non-empty token as the bot (SPEC 7). A test can give
  a token string properties with :func:`set_token` (kept in memory, not in the state
  file); GitLab then refuses it as lib/api/api_guard.rb does: an expired or revoked
  token is 401 ``invalid_token`` on every request, a token without the ``api`` scope
  is 403 ``insufficient_scope`` on writes (``read_api`` reads only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gl_csm.sandbox.errors import ApiError, forbidden
from gl_csm.sandbox.request import ApiRequest
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Store

#: Scopes that allow the read-only requests (doc/user/profile/personal_access_tokens.md).
READ_SCOPES = frozenset({"api", "read_api"})
DEFAULT_SCOPES = ("api",)
#: Unregistered tokens expire a year from today, the longest lifetime GitLab allows by
#: default (doc/user/profile/personal_access_tokens.md, "Access token expiration").
DEFAULT_LIFETIME_DAYS = 365


def _tokens(store: Store) -> dict[str, dict[str, Any]]:
    tokens = getattr(store, "access_tokens", None)
    if tokens is None:
        tokens = {}
        store.access_tokens = tokens  # type: ignore[attr-defined]
    return tokens


def set_token(
    store: Store,
    token: str,
    *,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    expires_at: dt.date | None = None,
    revoked: bool = False,
    name: str = "gl-csm",
) -> None:
    """Give ``token`` these properties (tests of the preflight and of refusals)."""
    tokens = _tokens(store)
    tokens[token] = {
        "id": len(tokens) + 2,
        "name": name,
        "scopes": list(scopes),
        "expires_at": expires_at.isoformat() if expires_at else None,
        "revoked": revoked,
    }


def token_record(store: Store, token: str) -> dict[str, Any]:
    found = _tokens(store).get(token)
    if found is not None:
        return found
    expires = store.clock().date() + dt.timedelta(days=DEFAULT_LIFETIME_DAYS)
    return {
        "id": 1,
        "name": "gl-csm",
        "scopes": list(DEFAULT_SCOPES),
        "expires_at": expires.isoformat(),
        "revoked": False,
    }


def _expired(store: Store, record: dict[str, Any]) -> bool:
    expires = record.get("expires_at")
    # A token expires at the start of its expiry date (UTC).
    return bool(expires) and store.clock().date() >= dt.date.fromisoformat(expires)


def check_token(store: Store, token: str, method: str) -> None:
    """Refuse the request as GitLab's API guard would (module docstring)."""
    record = _tokens(store).get(token)
    if record is None:
        return
    if record["revoked"]:
        raise ApiError(
            401,
            {
                "error": "invalid_token",
                "error_description": "Token was revoked. You have to re-authorize from the user.",
            },
        )
    if _expired(store, record):
        raise ApiError(401, {"error": "invalid_token", "error_description": "Token has expired."})
    scopes = set(record["scopes"])
    allowed = scopes & ({"api"} if method not in ("GET", "HEAD") else READ_SCOPES)
    if not allowed:
        raise ApiError(
            403,
            {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided "
                "by the access token.",
                "scope": "api" if method not in ("GET", "HEAD") else "read_api api",
            },
        )


def header_token(headers: dict[str, str]) -> str:
    """The PRIVATE-TOKEN or OAuth bearer token of a request ("" for none)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    token = lowered.get("private-token", "").strip()
    auth = lowered.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    return token


@route("GET", "/personal_access_tokens/self")
def token_self(store: Store, req: ApiRequest) -> Any:
    if req.job_token:
        # A CI job token is not a personal access token.
        raise ApiError(401, {"message": "401 Unauthorized"})
    record = token_record(store, header_token(req.headers))
    return {
        "id": record["id"],
        "name": record["name"],
        "revoked": record["revoked"],
        "created_at": "2026-01-01T00:00:00.000Z",
        "description": "",
        "scopes": list(record["scopes"]),
        "user_id": req.user_id,
        "last_used_at": store.now(),
        "active": not record["revoked"] and not _expired(store, record),
        "expires_at": record["expires_at"],
    }


@route("GET", "/license")
def license_current(store: Store, req: ApiRequest) -> Any:
    user = store.users[req.user_id]
    if not user.get("is_admin") or req.job_token:
        raise forbidden()
    edition = str(getattr(store, "edition", "free") or "free")
    if edition == "free":
        return None
    return {
        "id": 1,
        "plan": edition,
        "created_at": "2026-01-01T00:00:00.000Z",
        "starts_at": "2026-01-01",
        "expires_at": None,
        "expired": False,
        "licensee": {"Name": "gl-csm sandbox"},
    }
