"""Edit account registry files (``accounts/*.yml``) as text, and write them back.

The registry is edited by people through merge requests (SPEC 2), so the bot never
re-dumps a file: it changes only the lines of the keys it sets, and every other line,
comment, blank line and the key order stay as they were. One line editor,
:func:`edit_text`, serves every writer: onboard/promote set the top-level ``project:``
(:func:`with_project`), handoff sets ``team.csm`` (:func:`with_csm`), and
``accounts import`` sets the CRM-owned keys (``services/accounts_import``).

What :func:`edit_text` can edit: a top-level scalar is replaced on its line (a
trailing comment is kept), or ``key: VALUE`` is appended when there is none; a
one-level nested key (``team.csm``, ``seats.licensed``) is replaced inside its
one-line flow mapping (``team: {csm: a, ae: b}``) or its indented block, or added to
it; ``team: null`` / ``{}`` / no ``team`` at all become ``team: {csm: NAME}``. Any
other layout (anchors, nested flow collections, a scalar where a mapping should be,
a key line it cannot split) raises :class:`RegistryEditError` rather than guess: a
person must edit that file. Values go through one quoting rule, :func:`scalar`.

The new file replaces the old one atomically (:func:`write_atomically`: temporary
file in the same folder, then ``os.replace``), so a reader, or a kill at the wrong
moment, never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gl_csm.errors import GlCsmError


class RegistryEditError(GlCsmError):
    """The registry file's layout is one the bot will not edit as text: a person must."""

    exit_code = 2


# ---------------------------------------------------------------- the line editor

# A key's value (quoted or plain) and an optional trailing comment on its line.
_VALUE = r"(?P<value>[ \t]*(?:\"[^\"\n]*\"|'[^'\n]*'|[^#\r\n]*?))"
_COMMENT = r"(?P<comment>[ \t]+#[^\r\n]*)?"


def scalar(value: Any, quote: str = "'") -> str:
    """``value`` as YAML text safe in block and flow context, quoted when needed.

    The rule is PyYAML's own dumper: a string is left plain only when YAML reads the
    plain text back as that same string (so ``yes``, ``null``, ``1234``, ``2027-01-02``
    or ``a, b`` get quoted), numbers, dates and bools stay plain. ``quote='"'`` writes
    double quotes instead of single ones (handoff has always written ``"true"``); the
    two are equivalent for the values that need quoting here.
    """
    text = yaml.safe_dump([value], default_flow_style=True, width=1 << 30).strip()[1:-1]
    if quote == '"' and text.startswith("'"):
        text = yaml.safe_dump(
            [value], default_flow_style=True, default_style='"', width=1 << 30
        ).strip()[1:-1]
    return text


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _append(lines: list[str], line: str, nl: str) -> None:
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += nl
    lines.append(line + nl)


def _find(lines: list[str], key: str, indent: str = "") -> tuple[int, re.Match[str]] | None:
    """The line of ``key`` (at ``indent``), split into value and comment."""
    start = re.compile(rf"^{re.escape(indent)}{re.escape(key)}:(\s|$)")
    pattern = re.compile(
        rf"^{re.escape(indent)}{re.escape(key)}:{_VALUE}{_COMMENT}(?P<eol>\r?\n?)$"
    )
    for i, line in enumerate(lines):
        if start.match(line):
            found = pattern.match(line)
            if found is None:
                raise RegistryEditError(
                    f"the line of key '{key}' has a layout this tool cannot edit"
                )
            return i, found
    return None


def _split_flow(inner: str) -> list[str]:
    """Items of a one-line flow mapping's inside, split on commas outside quotes."""
    items, current, quote = [], "", ""
    for ch in inner:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "{}[]":
            raise RegistryEditError("a nested flow collection")
        elif ch == ",":
            items.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        items.append(current.strip())
    return items


def _set_flow(value: str, child: str, text: str, first: bool) -> str:
    items = _split_flow(value.strip()[1:-1])
    names = [item.partition(":")[0].strip() for item in items]
    if child in names:
        items[names.index(child)] = f"{child}: {text}"
    else:
        items.insert(0 if first else len(items), f"{child}: {text}")
    return "{" + ", ".join(items) + "}"


def _block_lines(lines: list[str], start: int) -> list[int]:
    """Indices of the indented lines of the block that follows ``lines[start]``."""
    out = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            break
        out.append(i)
    return out


def _set_block(lines: list[str], start: int, child: str, text: str, nl: str, first: bool) -> bool:
    block = _block_lines(lines, start)
    if not block:
        return False
    indent = re.match(r"^[ \t]*", lines[block[0]]).group(0)  # type: ignore[union-attr]
    found = _find([lines[i] for i in block], child, indent)
    if found is not None:
        j, match = found
        eol = match.group("eol")
        lines[block[j]] = f"{indent}{child}: {text}{match.group('comment') or ''}{eol}"
        return True
    if first:  # right after the parent's line, before any comment inside the block
        lines.insert(start + 1, f"{indent}{child}: {text}{nl}")
        return True
    last = block[-1]
    if not lines[last].endswith("\n"):
        lines[last] += nl
    lines.insert(last + 1, f"{indent}{child}: {text}{nl}")
    return True


def _set_key(lines: list[str], key: str, text: str, nl: str, first: bool) -> None:
    head, _, child = key.partition(".")
    found = _find(lines, head)
    if found is None:
        _append(lines, f"{head}: {{{child}: {text}}}" if child else f"{head}: {text}", nl)
        return
    i, match = found
    current = match.group("value").strip()
    comment, eol = match.group("comment") or "", match.group("eol")
    if not child:
        lines[i] = f"{head}: {text}{comment}{eol}"
    elif current.startswith("{") and current.endswith("}"):
        lines[i] = f"{head}: {_set_flow(current, child, text, first)}{comment}{eol}"
    elif current == "" and _set_block(lines, i, child, text, nl, first):
        return
    elif current in ("", "null", "~"):
        lines[i] = f"{head}: {{{child}: {text}}}{comment}{eol}"
    else:
        raise RegistryEditError(f"key '{head}' is not a mapping this tool can edit")


def edit_text(
    text: str, updates: Mapping[str, Any], *, first: bool = False, quote: str = "'"
) -> str:
    """``text`` with each key of ``updates`` (``key`` or ``parent.child``) set.

    See the module docstring for the layouts it edits. A nested key the mapping does
    not have yet is added last, or first with ``first=True`` (handoff keeps the CSM at
    the head of ``team``, where people read it). ``quote`` is passed to :func:`scalar`.
    Raises :class:`RegistryEditError` for a layout it will not edit.
    """
    nl = _newline(text)
    lines = text.splitlines(keepends=True)
    for key, value in updates.items():
        _set_key(lines, key, scalar(value, quote), nl, first)
    return "".join(lines)


def write_atomically(
    path: Path, new_text: str, *, check_unchanged: bool = False, old_text: str | None = None
) -> None:
    """Replace ``path`` as a whole: temporary file next to it, then ``os.replace``.

    With ``check_unchanged``, refuse unless the file still has ``old_text`` (None: it
    must not exist yet), so an edit planned from one version never overwrites a newer
    one a person saved in between. A new file gets mode 0644.
    """
    if check_unchanged:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != old_text:
            raise GlCsmError(
                f"{path}: changed on disk since the plan was made; run the import again"
            )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise GlCsmError(f"{path}: cannot write the registry file: {exc.strerror}") from None


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise GlCsmError(f"{path}: cannot read the registry file: {exc.strerror}") from None


# ---------------------------------------------------------------- project (onboard, promote)

# A top-level `project:` key (no indentation), its value and an optional comment.
_LINE = re.compile(rf"^project:{_VALUE}{_COMMENT}(?P<eol>\r?)$", re.MULTILINE)
_SAFE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")


def with_project(text: str, project_path: str) -> str:
    """``text`` with its top-level ``project:`` set to ``project_path``.

    ValueError for anything that is not a project path (it goes into the file as is);
    :class:`RegistryEditError` when the ``project:`` line cannot be edited as text.
    """
    if not _SAFE.match(project_path):
        raise ValueError(f"not a project path: {project_path!r}")
    return edit_text(text, {"project": project_path})


def write_project_path(file: str | Path, project_path: str) -> bool:
    """Set ``project:`` in the registry file; False when it already had that value."""
    path = Path(file)
    text = _read(path)
    new = with_project(text, project_path)
    if new == text:
        return False
    write_atomically(path, new)
    return True


def current_value(text: str) -> str | None:
    """The ``project:`` value of a registry file's text, unquoted (None when absent/null)."""
    found = _LINE.search(text)
    if found is None:
        return None
    value = found.group("value").strip().strip("\"'")
    return None if value in ("", "null", "~") else value


# ---------------------------------------------------------------- team.csm (handoff)

_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def with_csm(text: str, username: str) -> str:
    """``text`` with ``team.csm`` set to ``username``, every other byte kept.

    Handles ``team: {csm: a, sa: b}`` (one line), the indented block form, ``team:``
    with no ``csm`` key (added first), ``team: null`` / ``{}`` and no ``team`` at all
    (``team: {csm: NAME}`` appended). The result is checked by parsing both texts:
    only ``team.csm`` may differ, else :class:`RegistryEditError` (nothing written),
    because a handoff must never change who else is on the team by accident.
    """
    if not _USERNAME.match(username):
        raise ValueError(f"not a GitLab username: {username!r}")
    new = edit_text(text, {"team.csm": username}, first=True, quote='"')
    _check_only_csm_changed(text, new, username)
    return new


def _check_only_csm_changed(old: str, new: str, username: str) -> None:
    try:
        before, after = yaml.safe_load(old) or {}, yaml.safe_load(new) or {}
    except yaml.YAMLError as exc:
        raise RegistryEditError(f"the edited file does not parse ({exc})") from None
    if not isinstance(before, dict) or not isinstance(after, dict):
        raise RegistryEditError("the file is not a mapping")
    team = dict(before.get("team") or {})
    team["csm"] = username
    if after != {**before, "team": team}:
        raise RegistryEditError("a text edit of team.csm would change more than team.csm")


def write_csm(file: str | Path, username: str) -> bool:
    """Set ``team.csm`` in the registry file; False when it already had that value."""
    path = Path(file)
    text = _read(path)
    try:
        new = with_csm(text, username)
    except RegistryEditError as exc:
        raise RegistryEditError(
            f"{path}: cannot set team.csm to {username!r}: {exc}; edit team.csm by hand"
        ) from None
    if new == text:
        return False
    write_atomically(path, new)
    return True
