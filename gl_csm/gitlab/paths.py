"""How a project or group is named in an API path."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

#: The ``:id`` of a ``/projects/:id/...`` API path (still URL-encoded).
_PROJECT_ID = re.compile(r"^/projects/([^/?]+)")


def enc(path_or_id: str | int) -> str:
    """A project/group id, or its full path URL-encoded (doc/api/rest/_index.md)."""
    return str(path_or_id) if isinstance(path_or_id, int) else quote(str(path_or_id), safe="")


def project_ref(api_path: str) -> str | None:
    """The full path a ``/projects/:id/...`` API path names (decoded), or None when it
    names the project by its numeric id or is not a project route."""
    match = _PROJECT_ID.match(api_path)
    if match is None or match.group(1).isdigit():
        return None
    return unquote(match.group(1))


def with_project_id(api_path: str, project_id: int) -> str:
    """The same API path with the project named by its numeric id."""
    return _PROJECT_ID.sub(f"/projects/{project_id}", api_path, count=1)
