"""How a project or group is named in an API path."""

from __future__ import annotations

from urllib.parse import quote


def enc(path_or_id: str | int) -> str:
    """A project/group id, or its full path URL-encoded (doc/api/rest/_index.md)."""
    return str(path_or_id) if isinstance(path_or_id, int) else quote(str(path_or_id), safe="")
