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


#: Set by the gateway (gl_csm/gitlab/issues.py) on an issue or note whose author is not
#: the bot's user: a person wrote it, so a marker in it was copied, not the bot's.
BY_PERSON = "gl_csm_by_person"


def by_person(item: dict) -> bool:
    """Whether a person, not the bot, wrote this issue or note (see BY_PERSON)."""
    return bool(item.get(BY_PERSON))


def own_key(item: dict, kind: str, field: str = "description") -> str | None:
    """The key of the item's own marker of ``kind``: the first one in it (the bot writes
    one marker of a kind, at the top), and only when the bot wrote the item. A marker
    pasted further down (another account's card quoted in this one) or in a person's
    issue or comment is not the item's."""
    if by_person(item):
        return None
    for found_kind, key in markers_in(item.get(field)):
        if found_kind == kind:
            return key
    return None


def index_by_marker(items: list[dict], kind: str, field: str = "description") -> dict[str, dict]:
    """Map KEY -> item for the items whose own marker (:func:`own_key`) is of ``kind``.

    When two items carry the same marker (a person copied a bot issue), the oldest
    (lowest id) wins, so the bot keeps working with the one it made.
    """
    out: dict[str, dict] = {}
    for item in sorted(items, key=lambda i: i.get("id") or 0):
        key = own_key(item, kind, field)
        if key is not None and key not in out:
            out[key] = item
    return out


def strays(items: list[dict], kind: str, field: str = "description") -> list[str]:
    """One line per marker of ``kind`` the bot ignores in ``items`` (see :func:`own_key`),
    to report: a person's issue carrying a copied marker, or a second marker of the kind
    pasted into one of the bot's issues. Names the issue and the marker, nothing else."""
    out = []
    for item in sorted(items, key=lambda i: i.get("iid") or 0):
        found = [key for k, key in markers_in(item.get(field)) if k == kind]
        # own_key(item, kind, field), from the markers just found (one scan of the text).
        own = None if by_person(item) or not found else found[0]
        where = f"#{item.get('iid', '?')}"
        for key in found:
            if own is None:
                out.append(
                    f"{where} carries the marker {token(kind, key)} but a person wrote it: ignored"
                )
            elif key != own:
                out.append(f"{where} ({kind} of {own}) also carries {token(kind, key)}: ignored")
    return out
