"""Route table: ``@route("GET", "/projects/:id/issues")`` registers a handler.

Paths are matched on the still percent-encoded path, so ``a%2Fb`` stays one
segment, as GitLab requires for ``:id`` given as a URL-encoded full path
(doc/api/rest/_index.md, "Namespaced paths"). Captured segments are decoded
before they reach the handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gl_csm.sandbox.errors import method_not_allowed, not_found
from gl_csm.sandbox.request import ApiRequest, Reply
from gl_csm.sandbox.store import Store

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    writes: bool
    template: str


ROUTES: list[Route] = []


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    pattern = "^" + re.sub(r":(\w+)", r"(?P<\1>[^/]+)", template) + "/?$"

    def register(fn: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(pattern), fn, method != "GET", template))
        return fn

    return register


def find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for ``path`` (relative to /api/v4); 404 if none, 405 if wrong method."""
    known_path = False
    for candidate in ROUTES:
        match = candidate.regex.match(path)
        if not match:
            continue
        known_path = True
        if candidate.method == method or (method == "HEAD" and candidate.method == "GET"):
            return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
    if known_path:
        raise method_not_allowed()
    raise not_found()


def call(store: Store, found: Route, args: dict[str, str], req: ApiRequest) -> Reply:
    result = found.handler(store, req, **args)
    if isinstance(result, Reply):
        return result
    return Reply(201 if req.method == "POST" else 200, result)
