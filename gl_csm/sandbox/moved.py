"""A project reached by an old full path (after a transfer or a ``path`` change).

lib/api/helpers.rb ``find_project!`` (GitLab 16.7+): when ``:id`` is a full path that
only a redirect route resolves (``project_moved?``: a path with a ``/`` that is not the
project's ``full_path``, compared case-insensitively), a GET answers ``301 Moved
Permanently`` to the same route with the numeric id (``url_with_project_id``, query
string kept), and every other method answers ``405`` with
``{"message": "Non GET methods are not allowed for moved projects"}``
(``not_allowed!``). The check runs after the read check: a moved project the user
cannot read is ``404 Project Not Found`` as any other.
"""

from __future__ import annotations

from gl_csm.sandbox.errors import ApiError
from gl_csm.sandbox.request import Reply
from gl_csm.sandbox.store import Record, Store

MOVED_MESSAGE = "Non GET methods are not allowed for moved projects"


def project_moved(store: Store, ident: str, project: Record) -> bool:
    """``project_moved?``: ``ident`` is a path that is not the project's current one."""
    return "/" in ident and store.project_path(project).lower() != ident.strip("/").lower()


def refuse_or_redirect(
    store: Store, template: str, method: str, path: str, query: str, base: str, ident: str
) -> Reply | None:
    """The 301 (or raise the 405) GitLab answers when ``ident`` (the route's ``:id``)
    names a moved project; None when it does not.

    The 301's body is the text of ``API::API::MovedPermanentlyError`` as
    lib/api/api.rb's ``rescue_from`` renders it (``rack_response(e.message, 301)``)."""
    if not template.startswith("/projects/:id"):
        return None
    project = store.find_project(ident, follow_redirects=True)
    if project is None or not project_moved(store, ident, project):
        return None
    if method != "GET":
        raise ApiError(405, {"message": MOVED_MESSAGE})
    prefix = "/api/v4/projects/"
    rest = path[len(prefix) :].split("/", 1)
    tail = "/" + rest[1] if len(rest) > 1 else ""
    location = f"{base}{prefix}{project['id']}{tail}" + (f"?{query}" if query else "")
    text = f"This resource has been moved permanently to {location}"
    return Reply(301, None, {"Location": location}, raw=text.encode(), content_type="text/plain")
