"""Write a collaboration project's path back into the account's registry file.

The registry is edited by people through merge requests (SPEC 2), so the bot changes
exactly one line, as text: the top-level ``project:`` line is replaced (a trailing
comment is kept), or ``project: PATH`` is appended when there is none. Every other
line, comment, blank line and key order stays as it was. The new file replaces the
old one atomically (temporary file in the same folder, then ``os.replace``), so a
reader, or a kill at the wrong moment, never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

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
        return text[: found.start()] + line + text[found.end():]
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
    return True


def current_value(text: str) -> str | None:
    """The ``project:`` value of a registry file's text, unquoted (None when absent/null)."""
    found = _LINE.search(text)
    if found is None:
        return None
    value = found.group("value").strip().strip("\"'")
    return None if value in ("", "null", "~") else value
