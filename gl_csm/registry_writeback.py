"""Edit account registry files (``accounts/*.yml``) and write them back.

The registry is edited by people through merge requests (SPEC 2), so the bot never
re-formats a file: :func:`edit_text` is a round-trip YAML edit (ruamel.yaml) that keeps
comments, blank lines, key order, flow or block style, quoting, anchors and merge keys,
and changes only the keys it sets. It serves every writer: onboard/promote set the
top-level ``project:`` (:func:`with_project`), handoff sets ``team.csm``
(:func:`with_csm`), and ``accounts import`` sets the CRM-owned keys
(``services/moves/accounts_import``). A layout it cannot edit to mean exactly "the old
file with these keys set" (a scalar where a mapping should be) raises
:class:`RegistryEditError`: a person must edit that file.

The new file replaces the old one atomically (:func:`write_atomically`: temporary
file in the same folder, then ``os.replace``), so a reader, or a kill at the wrong
moment, never sees half a file.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from gl_csm.errors import GlCsmError


class RegistryEditError(GlCsmError):
    """The registry file's layout is one the bot will not edit as text: a person must."""

    exit_code = 2


# ---------------------------------------------------------------- the round-trip editor

#: Indentations tried, most common first (mapping, sequence, offset of the dash): the
#: one that reads and writes the untouched file back byte for byte is the file's own.
_LAYOUTS = ((2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2), (2, 3, 1), (4, 4, 2))


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


def _yaml(layout: tuple[int, int, int]) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True  # "17.3" stays double-quoted, 'yes' single-quoted
    rt.width = 1 << 16  # never fold a long line the person wrote on one line
    mapping, sequence, offset = layout
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    return rt


def _dump(rt: YAML, data: Any) -> str:
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()


def _load(text: str) -> tuple[YAML, Any]:
    """The file's data as round-trip nodes, and a dumper with the file's own layout."""
    best: tuple[int, YAML, Any] | None = None
    for layout in _LAYOUTS:
        rt = _yaml(layout)
        try:
            data = rt.load(text)
        except YAMLError as exc:
            raise RegistryEditError(f"not valid YAML ({exc})") from None
        if data is None:
            return rt, CommentedMap()
        _keep_anchors(data)
        out = _dump(rt, data)
        if out == text:
            return rt, data
        lines = text.splitlines()
        misses = sum(a != b for a, b in zip(lines, out.splitlines(), strict=False))
        misses += abs(len(lines) - len(out.splitlines()))
        if best is None or misses < best[0]:
            best = (misses, rt, data)
    assert best is not None
    return best[1], best[2]


def _keep_anchors(node: Any) -> None:
    """Anchors a person wrote stay, even when no alias uses them (ruamel drops those)."""
    if isinstance(node, CommentedMap | CommentedSeq):
        if node.anchor.value:
            node.yaml_set_anchor(node.anchor.value, always_dump=True)
        for child in node.values() if isinstance(node, CommentedMap) else node:
            _keep_anchors(child)


def _styled(value: Any, quote: str) -> Any:
    """A new string quoted only when YAML would misread it plain (:func:`scalar`'s
    rule), in ``quote`` marks; other values as they are."""
    if not isinstance(value, str):
        return value
    if scalar(value).startswith("'"):
        return DoubleQuotedScalarString(value) if quote == '"' else SingleQuotedScalarString(value)
    return value


def _flow_map(**items: Any) -> CommentedMap:
    new = CommentedMap(items)
    new.fa.set_flow_style()  # `team: {csm: x}`, like the sample registry
    return new


def _containers(node: Any, seen: dict[int, int]) -> None:
    if isinstance(node, dict | list):
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] == 1:
            for child in node.values() if isinstance(node, dict) else node:
                _containers(child, seen)


def _set_key(data: CommentedMap, key: str, value: Any, first: bool, quote: str) -> None:
    head, _, child = key.partition(".")
    if not child:
        data[head] = _styled(value, quote)
        return
    parent = data.get(head)
    if parent is None:
        data[head] = _flow_map(**{child: _styled(value, quote)})
        return
    if not isinstance(parent, CommentedMap):
        raise RegistryEditError(f"key '{head}' is not a mapping ({type(parent).__name__})")
    seen: dict[int, int] = {}
    _containers(data, seen)
    if seen.get(id(parent), 0) > 1:
        # An anchored mapping used elsewhere (`*alias`): edit this place's own copy,
        # never the other accounts' or keys' shared values.
        copy = CommentedMap(parent.items())
        if parent.fa.flow_style():
            copy.fa.set_flow_style()
        data[head] = parent = copy
    if not parent:
        parent.fa.set_flow_style()  # `team: {}` becomes `team: {csm: x}`
    new = _styled(value, quote)
    if child in parent or not first:
        parent[child] = new
    else:
        parent.insert(0, child, new)


def _plain(node: Any) -> Any:
    """Plain data, every container its own (an alias's target is copied, not shared)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _expected(before: Any, updates: Mapping[str, Any]) -> dict:
    data = _plain(before) if isinstance(before, dict) else {}
    for key, value in updates.items():
        head, _, child = key.partition(".")
        if child:
            inner = data.get(head)
            data[head] = {**(inner if isinstance(inner, dict) else {}), child: value}
        else:
            data[head] = value
    return data


_COMMENT_RE = re.compile(r"^(.*?\S)(\s+)(#.*)$")


def _regap(old: str, new: str) -> str:
    """``new`` with the spaces before its trailing comment as ``old`` had them: ruamel
    keeps a comment's column, so a shorter value would otherwise move it."""
    found = _COMMENT_RE.match(old)
    if found is None or not new.endswith(found.group(3)):
        return new
    code = new[: -len(found.group(3))].rstrip()
    return f"{code}{found.group(2)}{found.group(3)}"


def _keep_comment_gaps(old: str, new: str) -> str:
    """Lines that changed keep their comment's spacing (the diff shows the value only)."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                new_lines[j] = _regap(old_lines[i], new_lines[j])
    return "\n".join(new_lines)


def edit_text(
    text: str, updates: Mapping[str, Any], *, first: bool = False, quote: str = "'"
) -> str:
    """``text`` with each key of ``updates`` (``key`` or ``parent.child``) set.

    A round-trip YAML edit (ruamel.yaml): comments, blank lines, key order, flow or
    block style, quoting, anchors and merge keys stay; only the keys set change. A
    nested key the mapping does not have yet is added last, or first with
    ``first=True`` (handoff keeps the CSM at the head of ``team``, where people read
    it); a missing or null parent becomes ``parent: {child: value}``. New strings are
    quoted by :func:`scalar`'s rule, in ``quote`` marks. The result is read back: it
    must mean the old file with exactly these keys set, else :class:`RegistryEditError`
    (nothing written).
    """
    nl = "\r\n" if "\r\n" in text else "\n"
    source = text.replace("\r\n", "\n")
    rt, data = _load(source)
    if not isinstance(data, CommentedMap):
        raise RegistryEditError(f"the file is not a mapping ({type(data).__name__})")
    try:
        before = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise RegistryEditError(f"not valid YAML ({exc})") from None
    for key, value in updates.items():
        _set_key(data, key, value, first, quote)
    out = _keep_comment_gaps(source, _dump(rt, data))
    try:
        after = yaml.safe_load(out)
    except yaml.YAMLError as exc:  # pragma: no cover - ruamel writes valid YAML
        raise RegistryEditError(f"the edited file does not parse ({exc})") from None
    if after != _expected(before, updates):
        raise RegistryEditError("the edit would change more than the keys it sets")
    return out.replace("\n", nl) if nl != "\n" else out


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
    """The ``project:`` value of a registry file's text (None when absent, null or the
    file does not parse)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    value = data.get("project") if isinstance(data, dict) else None
    return None if value is None else str(value)


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
