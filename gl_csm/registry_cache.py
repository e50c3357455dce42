"""A cache of the registry files already read: a file whose bytes did not change since
the last run is not parsed nor validated again (README "Registry cache").

The cache is one JSON file of plain data (strings, numbers, booleans, dates as
``{"$date": "YYYY-MM-DD"}``, each dataclass as a mapping tagged ``"$": "<class>"``), keyed
by the file's path and a BLAKE2b digest of its bytes; the frozen Account dataclasses are
rebuilt from it by their own constructors. JSON, never pickle: the cache may come back
from a CI cache, and loading it must never run code. Only accounts that loaded cleanly
are written, each checked to come back equal before it is: a file with a problem is
read, and its problem reported, on every run.

The cache is an optimisation and never an error: a missing, unreadable, corrupt or
foreign file, one of another format or written by another gl-csm (or another version of
the parser), is ignored and rebuilt; a directory that cannot be written is left alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import MISSING, fields
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm import __version__
from gl_csm.domain import account as account_model
from gl_csm.domain import taxonomy
from gl_csm.domain.account import (
    Account,
    Engagement,
    Opportunity,
    PriorityException,
    Risk,
    Seats,
    Sentiment,
    SuccessPlan,
    Support,
    Team,
    Usage,
    Version,
)

#: Bumped whenever the layout below changes.
FORMAT = 1
#: The cache file in the cache directory.
FILE_NAME = "registry.json"
#: An environment variable naming the cache directory (README "Registry cache").
ENV_DIR = "GL_CSM_CACHE_DIR"
#: The cache directory beside gl-csm.yml when the environment names none.
DEFAULT_DIR = ".gl-csm-cache"

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Account,
        Seats,
        Usage,
        Version,
        Opportunity,
        SuccessPlan,
        Engagement,
        Support,
        Sentiment,
        Risk,
        PriorityException,
        Team,
    )
}
# Each class's fields and defaults, in order (fields() walks the class every call).
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {
    cls: tuple((f.name, f.default) for f in fields(cls)) for cls in _CLASSES.values()
}

#: One cached file: the digest of its bytes and the account it holds.
Entry = tuple[str, Account]


def digest(raw: bytes) -> str:
    """The digest a registry file's bytes are known by."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


@functools.cache
def schema() -> str:
    """What the cached accounts were built by: the cache format, the gl-csm version and
    the text of the modules that read and validate a registry file (a parser changed in
    a checkout without a new version still invalidates the cache)."""
    h = hashlib.blake2b(f"{FORMAT}\0{__version__}".encode(), digest_size=16)
    for module_file in (
        account_model.__file__,
        taxonomy.__file__,
        str(Path(__file__).with_name("registry.py")),
    ):
        try:
            h.update(Path(module_file or "").read_bytes())
        except OSError:
            h.update(b"\0unreadable")
    return h.hexdigest()


def cache_file(directory: Path) -> Path:
    return directory / FILE_NAME


def default_dir(config_path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The cache directory: ``$GL_CSM_CACHE_DIR`` when set (``off`` or empty: no cache),
    else ``.gl-csm-cache/`` beside the config file; no config file, no cache."""
    named = environ.get(ENV_DIR)
    if named is not None:
        return None if named.strip() in ("", "off") else Path(named)
    if config_path is None:
        return None
    return config_path.resolve().parent / DEFAULT_DIR


# ---------------------------------------------------------------- encoding


def _encode(value: object) -> object:
    """Plain JSON data for an account value; TypeError for anything else."""
    cls = type(value)
    if cls in _FIELDS:
        out: dict[str, object] = {"$": cls.__name__}
        for name, default in _FIELDS[cls]:
            item = getattr(value, name)
            if default is not MISSING and item is default:
                continue
            if default is not MISSING and type(item) is type(default) and item == default:
                continue
            out[name] = _encode(item)
        return out
    if cls is date:
        assert isinstance(value, date)
        return {"$date": value.isoformat()}
    if cls is tuple:
        assert isinstance(value, tuple)
        return [_encode(v) for v in value]
    if value is None or cls in (str, bool, int, float):
        return value
    raise TypeError(f"not cacheable: {cls.__name__}")


def _decode_object(d: dict[str, Any]) -> object:
    if "$date" in d:
        return date.fromisoformat(d["$date"])
    name = d.pop("$", None)
    if name is None:
        return d
    cls = _CLASSES[name]
    # An account holds tuples, never lists (JSON has only lists).
    return cls(**{k: tuple(v) if type(v) is list else v for k, v in d.items()})


def _decode(text: str) -> object:
    return json.loads(text, object_hook=_decode_object)


def encode_entry(entry: Entry) -> list[object] | None:
    """The cached form of an entry, or None when the account does not come back equal
    from it (a value of a type this module does not know is never cached wrong)."""
    key, account = entry
    try:
        plain = _encode(account)
        again = _decode(json.dumps(plain))
    except (TypeError, ValueError, KeyError):
        return None
    return [key, plain] if again == account else None


# ---------------------------------------------------------------- the file


def _read_text(path: Path) -> str | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read(directory: Path) -> dict[str, Entry]:
    """The cached entries by file path; empty when the cache is missing, unreadable,
    corrupt, foreign or of another format, version or parser."""
    text = _read_text(cache_file(directory))
    if text is None:
        return {}
    try:
        data = _decode(text)
        if not isinstance(data, dict) or data.get("schema") != schema():
            return {}
        entries = data["entries"]
        if not isinstance(entries, dict):
            return {}
        result: dict[str, Entry] = {}
        for source, (key, account) in entries.items():
            if isinstance(key, str) and type(account) is Account and account.source == source:
                result[source] = (key, account)
        return result
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}


def write(directory: Path, entries: Mapping[str, Entry], checked: Mapping[str, Entry]) -> None:
    """Replace the cache with `entries` (atomically: a run reading it meanwhile sees the
    old or the new file, never half of one). Entries also in `checked` (read back from
    the cache) are not checked again."""
    plain: dict[str, object] = {}
    for source, entry in entries.items():
        if checked.get(source) is entry:
            plain[source] = [entry[0], _encode(entry[1])]
        elif (encoded := encode_entry(entry)) is not None:
            plain[source] = encoded
    text = json.dumps({"schema": schema(), "entries": plain}, separators=(",", ":"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".registry-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, cache_file(directory))
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return  # a read-only checkout still runs, only without the cache


def holds(cached: Mapping[str, Entry], entries: Mapping[str, Entry]) -> bool:
    """Whether the cache read already holds exactly `entries` (then it is not rewritten)."""
    return cached.keys() == entries.keys() and all(cached[s] is e for s, e in entries.items())
