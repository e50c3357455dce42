"""Hidden markers that let the bot find its own issues and notes (ARCHITECTURE rule 3).

Every issue, note or commit the bot creates carries ``<!-- gl-csm:KIND:KEY -->``; people
may retitle and edit freely and the bot still finds its own object, and a create that
is retried after a lost answer finds the first one instead of making a duplicate.
"""

from __future__ import annotations

import re

_PART = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")
MARKER_RE = re.compile(r"<!--\s*gl-csm:([a-z0-9][a-z0-9._/-]*):([a-z0-9][a-z0-9._/:-]*)\s*-->")


def token(kind: str, key: str) -> str:
    """The searchable part of a marker (``gl-csm:tracking:acme-corp``)."""
    if not _PART.match(kind) or not re.match(r"^[a-z0-9][a-z0-9._/:-]*$", key):
        raise ValueError(f"invalid marker kind/key: {kind!r} {key!r}")
    return f"gl-csm:{kind}:{key}"


def marker(kind: str, key: str) -> str:
    """The hidden HTML comment to put on its own line in a body."""
    return f"<!-- {token(kind, key)} -->"


def markers_in(text: str | None) -> list[tuple[str, str]]:
    """Every (kind, key) marker in a body, in order."""
    return MARKER_RE.findall(text or "")


def has_marker(text: str | None, kind: str, key: str) -> bool:
    return (kind, key) in markers_in(text)


def index_by_marker(items: list[dict], kind: str, field: str = "description") -> dict[str, dict]:
    """Map KEY -> item for the items whose ``field`` carries a marker of ``kind``.

    When two items carry the same marker (a person copied a bot issue), the oldest
    (lowest id) wins, so the bot keeps working with the one it made.
    """
    out: dict[str, dict] = {}
    for item in sorted(items, key=lambda i: i.get("id") or 0):
        for found_kind, key in markers_in(item.get(field)):
            if found_kind == kind and key not in out:
                out[key] = item
    return out
