"""``Sandbox``: the one core both transports (adapter, HTTP server) call.

``handle()`` takes a method, a path with query string, headers and a body and
returns ``(status, headers, body)``. It authenticates, applies test injections,
dispatches to the route handlers under one lock, and renders errors the way
GitLab does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gl_csm.sandbox import editions, meta, moved, policy, routes
from gl_csm.sandbox.errors import ApiError, unauthorized
from gl_csm.sandbox.request import ApiRequest, Reply, parse_params
from gl_csm.sandbox.store import (
    BOT_USERNAME,
    Record,
    Store,
    load_document,
    utc_now,
    write_atomically,
)

API_PREFIX = "/api/v4"
HEALTH_PATHS = ("/-/health", "/-/readiness", "/-/liveness")
Response = tuple[int, dict[str, str], bytes]


@dataclass
class _Injection:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: bytes
    headers: dict[str, str]
    remaining: int
    after_processing: bool

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        return bool(self.pattern.search(path) or self.pattern.search(unquote(path)))


class Sandbox:
    """In-memory GitLab; ``Sandbox()`` is empty and not persisted, ``Sandbox.load(p)`` is.

    ``edition``: ``"free"`` (default, the strictest), ``"premium"`` or ``"ultimate"``:
    what the tier allows (editions.py). ``search``: ``"fulltext"`` (default, GitLab's
    issue search, fulltext.py) or ``"none"`` (every issue search finds nothing).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        edition: str = "free",
        search: str = "fulltext",
        _store: Store | None = None,
    ) -> None:
        editions.check(edition, search)
        self.path = Path(path) if path is not None else None
        self.store = _store or Store(clock)
        self.store._set_mode(edition, search)
        self.base_url = "http://localhost"  # used when a caller gives no base URL
        self.request_log: list[tuple[str, str]] = []
        self.write_count = 0  # processed write requests; the HTTP server saves on change
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._injections: list[_Injection] = []

    # -- persistence ----------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        edition: str = "free",
        search: str = "fulltext",
    ) -> Sandbox:
        """Load the JSON state at ``path``; a missing file gives an empty sandbox.

        Raises ValueError naming the file when it is not a valid state document.
        """
        path = Path(path)
        if not path.exists():
            return cls(path, clock=clock, edition=edition, search=search)
        store = Store.from_document(load_document(path), str(path), clock)
        return cls(path, clock=clock, edition=edition, search=search, _store=store)

    @property
    def edition(self) -> str:
        return str(self.store.edition)

    @property
    def search(self) -> str:
        return str(self.store.search_mode)

    def save(self) -> None:
        """Write the state atomically (temp file + os.replace); no-op without a path."""
        if self.path is None:
            return
        with self._lock:
            text = json.dumps(self.store.to_document(), indent=1, sort_keys=True)
        with self._save_lock:
            write_atomically(self.path, text)

    # -- conveniences for owners and tests --------------------------------------------
    @property
    def bot_username(self) -> str:
        return BOT_USERNAME

    @property
    def bot_user_id(self) -> int:
        user = self.store.user_by_username(BOT_USERNAME)
        assert user is not None
        return int(user["id"])

    @property
    def mentions(self) -> list[Record]:
        """Notified users: dicts with project, noteable_type, noteable_iid, username, source."""
        return self.store.mentions

    def seed(
        self,
        groups: Iterable[str] = (),
        projects: Iterable[tuple[str, str]] = (),
        users: Iterable[str] = (),
        members: Iterable[tuple[str, str, int]] = (),
    ) -> None:
        """Create what is missing: groups (full paths, parents too), projects (full path,
        visibility; their namespace groups too), users and direct project memberships
        ``(project path, username, access level)``. Idempotent.

        Seeded groups are ``public``: GitLab forbids a project more visible than its
        group, and a seeded group stands for one an administrator made, so it should
        not constrain what the bot (or a test) does with projects inside it. Groups
        created through ``POST /groups`` default to ``private``, as on GitLab.
        """
        from gl_csm.sandbox.groups import ensure_group_path
        from gl_csm.sandbox.members import add_member
        from gl_csm.sandbox.projects import create_project

        with self._lock:
            actor = self.bot_user_id
            for name in users:
                self.store.ensure_user(name)
            for full_path in groups:
                ensure_group_path(self.store, full_path, actor, "public")
            for full_path, visibility in projects:
                if self.store.find_project(full_path) is not None:
                    continue
                ns_path, _, path = full_path.strip("/").rpartition("/")
                if not ns_path:
                    raise ValueError(f"seed project {full_path!r}: needs a group path")
                group = ensure_group_path(self.store, ns_path, actor, "public")
                create_project(
                    self.store,
                    name=path,
                    path=path,
                    namespace=group,
                    actor_id=actor,
                    visibility=visibility,
                )
            for project_path, username, level in members:
                project = self.store.project(project_path)
                user = self.store.ensure_user(username)
                if not any(e["user_id"] == user["id"] for e in project["members"]):
                    add_member(self.store, project, user["id"], level, actor)
            self.write_count += 1

    def create_merge_request(
        self,
        project_path: str,
        iid: int | None = None,
        *,
        title: str = "Merge request",
        description: str = "",
        changes: Iterable[dict[str, Any]] = (),
        source_branch: str | None = None,
        target_branch: str | None = None,
    ) -> Record:
        """Test helper: add a merge request with the given diff; returns its API JSON."""
        from gl_csm.sandbox.merge_requests import create_merge_request, render

        with self._lock:
            project = self.store.project(project_path)
            mr = create_merge_request(
                self.store,
                project,
                title=title,
                author_id=self.bot_user_id,
                changes=list(changes),
                iid=iid,
                description=description,
                source_branch=source_branch,
                target_branch=target_branch,
            )
            self.write_count += 1
            return render(self.store, project, mr, self.base_url)

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        *,
        after_processing: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``.

        ``method`` is an HTTP method or ``"*"``; ``path_regex`` is searched in the URL
        path (as sent, and URL-decoded; no query string), e.g. ``r"/issues$"``.
        By default the request is not processed. With ``after_processing=True`` it is
        processed first and its answer replaced: a write that reached GitLab but whose
        answer was lost. ``body``: dict/list (JSON), str or bytes; default
        ``{"message": "<status> <reason>"}``.
        """
        if body is None:
            body = {"message": f"{status} {HTTPStatus(status).phrase}"}
        ctype = "application/json"
        if isinstance(body, bytes):
            raw, ctype = body, "text/plain"
        elif isinstance(body, str):
            raw, ctype = body.encode(), "text/plain"
        else:
            raw = json.dumps(body).encode()
        with self._lock:
            self._injections.append(
                _Injection(
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    raw,
                    {"Content-Type": ctype, **(headers or {})},
                    times,
                    after_processing,
                )
            )

    # -- the core entry point -------------------------------------------------------------
    def handle(
        self,
        method: str,
        url_path_with_query: str,
        headers: dict[str, str],
        body: bytes | None,
        base_url: str | None = None,
    ) -> Response:
        """Answer one request. ``base_url`` (scheme://host) is used for links and web URLs."""
        method = method.upper()
        path, _, query = url_path_with_query.partition("?")
        base = (base_url or self.base_url).rstrip("/")
        with self._lock:
            injection = self._take_injection(method, path)
            if injection is not None and not injection.after_processing:
                return injection.status, dict(injection.headers), injection.body
            self.request_log.append((method, path))
            self.store.generation = self.write_count
            status, out_headers, out_body = self._process(method, path, query, headers, body, base)
            if injection is not None:
                return injection.status, dict(injection.headers), injection.body
        return status, out_headers, out_body

    def _take_injection(self, method: str, path: str) -> _Injection | None:
        for injection in self._injections:
            if injection.remaining > 0 and injection.matches(method, path):
                injection.remaining -= 1
                if injection.remaining == 0:
                    self._injections.remove(injection)
                return injection
        return None

    def _process(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes | None,
        base: str,
    ) -> Response:
        if path in HEALTH_PATHS:
            return 200, {"Content-Type": "text/plain"}, b"GitLab OK"
        try:
            if not path.startswith(API_PREFIX + "/"):
                raise ApiError(404, {"error": "404 Not Found"})
            user_id, job_token = self._authenticate(headers)
            meta.check_token(self.store, meta.header_token(headers), method)  # expiry, scopes
            found, args = routes.find(method, path[len(API_PREFIX) :])
            if "id" in args:
                policy.check_route(self.store, method, found.template, args["id"], user_id)
                redirect = moved.refuse_or_redirect(
                    self.store, found.template, method, path, query, base, args["id"]
                )
                if redirect is not None:
                    return self._render(method, redirect)
            params = parse_params(query, headers, body)
            req = ApiRequest(
                method=method,
                path=path,
                query_string=query,
                headers=headers,
                params=params,
                base_url=base,
                user_id=user_id,
                job_token=job_token,
            )
            reply = routes.call(self.store, found, args, req)
            if found.writes:
                self.write_count += 1
        except ApiError as error:
            if method != "GET":
                # A failed write may still have created labels etc.; let the owner save.
                self.write_count += 1
            reply = Reply(error.status, error.body, dict(error.headers))
        return self._render(method, reply)

    def _authenticate(self, headers: dict[str, str]) -> tuple[int, bool]:
        """The token's user: a token a user holds (``tokens`` in the state, or
        :meth:`add_user_token`) is that user, with that user's rights (policy.py); any
        other non-empty token is the bot ``gl-csm-bot`` (SPEC 7), an administrator
        unless the state says ``is_admin: false``. JOB-TOKEN is the bot, read-mostly.
        A blocked or deactivated user's token is 401 (``Gitlab::UserAccess#allowed?``)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        token = meta.header_token(headers)
        if token:
            owner = self.store.token_owner(token)
            if owner is None:
                return self.bot_user_id, False
            if owner.get("state", "active") != "active":
                raise unauthorized()
            return int(owner["id"]), False
        if lowered.get("job-token", "").strip():
            return self.bot_user_id, True
        raise unauthorized()

    def add_user_token(
        self,
        username: str,
        token: str,
        *,
        admin: bool = False,
        service_account: bool = False,
    ) -> Record:
        """Give ``username`` (created when missing) a personal access token; requests
        with it are answered with that user's rights. ``service_account``: a service
        account user (doc/user/profile/service_accounts.md), as a bot's token should be."""
        with self._lock:
            user = self.store.ensure_user(username, is_admin=admin)
            if service_account:
                user["user_type"] = "service_account"
            tokens = user.setdefault("tokens", [])
            if token not in tokens:
                tokens.append(token)
            self.write_count += 1
            return user

    def set_bot_admin(self, admin: bool) -> None:
        """Make the default token's user (``gl-csm-bot``) an administrator or not: not,
        to run the bot with the least privilege the README names."""
        with self._lock:
            self.store.users[self.bot_user_id]["is_admin"] = admin
            self.write_count += 1

    @staticmethod
    def _render(method: str, reply: Reply) -> Response:
        headers = dict(reply.headers)
        if reply.raw is not None:
            content = reply.raw
            headers["Content-Type"] = reply.content_type
        else:
            content = json.dumps(reply.body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if method == "HEAD":
            content = b""
        return reply.status, headers, content
