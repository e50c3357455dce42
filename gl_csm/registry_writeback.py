"""Write what the bot owns back into an account's registry file: the collaboration
project's path (onboard, promote) and ``team.csm`` (handoff).

The registry is edited by people through merge requests (SPEC 2), so the bot changes
exactly one line, as text: the top-level ``project:`` line is replaced (a trailing
comment is kept), or ``project: PATH`` is appended when there is none; ``team.csm``
is edited inside ``team: {...}`` or the indented ``team:`` block (see
:func:`with_csm`). Every other line, comment, blank line and key order stays as it
was. The new file replaces the old one atomically (temporary file in the same folder,
then ``os.replace``), so a reader, or a kill at the wrong moment, never sees half a
file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import yaml

from gl_csm.errors import GlCsmError

# A top-level `project:` key (no indentation), its value and an optional comment.
_LINE = re.compile(
    r"^project:(?P<value>[ \t]*(?:\"[^\"\n]*\"|'[^'\n]*'|[^#\r\n]*?))"
    r"(?P<comment>[ \t]+#[^\r\n]*)?(?P<eol>\r?)$",
    re.MULTILINE,
)
_SAFE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")


def with_project(text: str, project_path: str) -> str:
    """``text`` with its ``project:`` set to ``project_path`` (see module docstring)."""
    if not _SAFE.match(project_path):
        raise ValueError(f"not a project path: {project_path!r}")
    found = _LINE.search(text)
    if found is not None:
        comment = found.group("comment") or ""
        line = f"project: {project_path}{comment}{found.group('eol')}"
        return text[: found.start()] + line + text[found.end() :]
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += newline
    return f"{text}project: {project_path}{newline}"


def write_project_path(file: str | Path, project_path: str) -> bool:
    """Set ``project:`` in the registry file; False when it already had that value."""
    path = Path(file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GlCsmError(f"{path}: cannot read the registry file: {exc.strerror}") from None
    text = raw.decode("utf-8")
    new = with_project(text, project_path)
    if new == text:
        return False
    _replace_file(path, new)
    return True


def _replace_file(path: Path, new: str) -> None:
    """Write ``new`` to a temporary file next to ``path``, then rename it over ``path``."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise GlCsmError(f"{path}: cannot write the registry file: {exc.strerror}") from None


def current_value(text: str) -> str | None:
    """The ``project:`` value of a registry file's text, unquoted (None when absent/null)."""
    found = _LINE.search(text)
    if found is None:
        return None
    value = found.group("value").strip().strip("\"'")
    return None if value in ("", "null", "~") else value


# ---------------------------------------------------------------- team.csm (handoff)

_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# The top-level `team:` line: what follows the colon, and an optional comment.
_TEAM = re.compile(
    r"^team:(?P<rest>[ \t]*(?:\{[^#\r\n]*\}|[^#\r\n]*?))(?P<comment>[ \t]+#[^\r\n]*)?(?P<eol>\r?)$",
    re.MULTILINE,
)
# `csm: VALUE` inside a one-line flow mapping.
_FLOW_CSM = re.compile(
    r"(?P<lead>[{,][ \t]*)csm[ \t]*:[ \t]*(?P<value>\"[^\"]*\"|'[^']*'|[^,}]*?)"
    r"(?P<trail>[ \t]*[,}])"
)
# `  csm: VALUE  # comment` inside a block mapping.
_BLOCK_CSM = re.compile(
    r"^(?P<indent>[ \t]+)csm[ \t]*:(?P<value>[ \t]*(?:\"[^\"\n]*\"|'[^'\n]*'|[^#\r\n]*?))"
    r"(?P<comment>[ \t]+#[^\r\n]*)?(?P<eol>\r?)$"
)


class RegistryEditError(GlCsmError):
    """The registry file's layout is one the bot will not edit as text: a person must."""

    exit_code = 2


def _scalar(username: str) -> str:
    """The username as a YAML scalar: plain when YAML reads it back as that string."""
    return username if yaml.safe_load(username) == username else f'"{username}"'


def with_csm(text: str, username: str) -> str:
    """``text`` with ``team.csm`` set to ``username``, every other byte kept.

    Handles ``team: {csm: a, sa: b}`` (one line), the indented block form, ``team:``
    with no ``csm`` key (added first), ``team: null`` / ``{}`` and no ``team`` at all
    (``team: {csm: NAME}`` appended). The result is checked by parsing both texts:
    only ``team.csm`` may differ, else :class:`RegistryEditError` (nothing written).
    """
    if not _USERNAME.match(username):
        raise ValueError(f"not a GitLab username: {username!r}")
    value = _scalar(username)
    found = _TEAM.search(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    if found is None:
        if text and not text.endswith("\n"):
            text += newline
        new = f"{text}team: {{csm: {value}}}{newline}"
    else:
        new = _edit_team(text, found, value, newline)
    _check_only_csm_changed(text, new, username)
    return new


def _edit_team(text: str, found: re.Match[str], value: str, newline: str) -> str:
    rest = found.group("rest").strip()
    start, end = found.start("rest"), found.end("rest")
    if rest.startswith("{"):
        inner = _FLOW_CSM.search(rest)
        if inner is not None:
            edited = f"{rest[: inner.start('value')]}{value}{rest[inner.end('value') :]}"
        elif rest[1:-1].strip():
            edited = f"{{csm: {value}, {rest[1:].lstrip()}"
        else:
            edited = f"{{csm: {value}}}"
        return f"{text[:start]} {edited}{text[end:]}"
    if rest in ("null", "~"):
        return f"{text[:start]} {{csm: {value}}}{text[end:]}"
    if rest:
        raise RegistryEditError("`team:` holds neither a mapping nor null")
    return _edit_block(text, found.end(), value, newline)


def _edit_block(text: str, after_team: int, value: str, newline: str) -> str:
    """``team:`` followed by indented lines: replace or add the ``csm:`` line."""
    end_of_line = text.find("\n", after_team)
    if end_of_line == -1:  # `team:` is the last line, without a newline
        text += newline
        end_of_line = len(text) - 1
    pos = end_of_line + 1
    indent = None
    offset = pos
    for line in text[pos:].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.strip() and not body.lstrip().startswith("#") and not body[:1].isspace():
            break  # the next top-level key: end of the block
        match = _BLOCK_CSM.match(body)
        if match is not None:
            comment = match.group("comment") or ""
            new_line = f"{match.group('indent')}csm: {value}{comment}{match.group('eol')}"
            return text[:offset] + new_line + text[offset + len(body) :]
        if indent is None and body.strip() and not body.lstrip().startswith("#"):
            indent = body[: len(body) - len(body.lstrip())]
        offset += len(line)
    return f"{text[:pos]}{indent or '  '}csm: {value}{newline}{text[pos:]}"


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
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise GlCsmError(f"{path}: cannot read the registry file: {exc.strerror}") from None
    try:
        new = with_csm(text, username)
    except RegistryEditError as exc:
        raise RegistryEditError(
            f"{path}: cannot set team.csm to {username!r}: {exc}; edit team.csm by hand"
        ) from None
    if new == text:
        return False
    _replace_file(path, new)
    return True
