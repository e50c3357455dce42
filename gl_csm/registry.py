"""Read the account registry (SPEC 2): one YAML file per account in a directory.

One bad file (YAML syntax, validation, duplicate slug) is reported as a problem and
never stops the others from loading; the caller exits non-zero at the end.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gl_csm import registry_cache
from gl_csm.domain.account import Account, RegistryError, RegistryErrors, parse_account
from gl_csm.errors import UsageError

# libyaml's loader is several times faster; PyYAML without libyaml lacks it.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: A registry file is a few dozen lines; anything far larger is a mistake or an attack.
MAX_FILE_BYTES = 256 * 1024


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """The safe loader, except that an impossible date (unquoted ``2026-02-30``) stays
    the text it was, so validation names the file, key and value instead of the YAML
    constructor crashing every command."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


#: A registry file holds about a hundred values; aliases (``*name``) may repeat a node,
#: but not expand the file past this many (a "billion laughs" file expands to 9**9).
MAX_EXPANDED_NODES = 10_000


def _expanded_nodes(text: str) -> int:
    """How many values the YAML holds once every alias is expanded, from the parser's
    events alone (nothing is built); stops counting past MAX_EXPANDED_NODES."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            stack.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            anchor, size = stack.pop()
        else:
            continue
        if anchor:
            sizes[anchor] = size
        stack[-1][1] += size
        if stack[-1][1] > MAX_EXPANDED_NODES:
            return stack[-1][1]
    return stack[0][1]


def load_yaml(raw: bytes, source: str) -> object:
    """One registry file's YAML, refusing what a person never writes in one but an
    attacker might: more than MAX_FILE_BYTES, text that is not UTF-8, and aliases that
    expand past MAX_EXPANDED_NODES values (a "billion laughs" file: seconds of CPU and
    gigabytes for whoever walks it). Raises RegistryError naming the file."""
    if len(raw) > MAX_FILE_BYTES:
        raise RegistryError(
            source,
            None,
            f"a registry file of at most {MAX_FILE_BYTES // 1024} KiB",
            f"{len(raw):,} bytes",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            source, None, "UTF-8 text", f"byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None
    if "*" in text:  # no alias without its indicator: skip the event scan otherwise
        expanded = _expanded_nodes(text)
        if expanded > MAX_EXPANDED_NODES:
            raise RegistryError(
                source,
                None,
                f"YAML aliases (*name) that expand to at most {MAX_EXPANDED_NODES:,} values",
                f"more than {MAX_EXPANDED_NODES:,} (an alias bomb?)",
            )
    try:
        return yaml.load(text, Loader=_Loader)
    except (RecursionError, ValueError, OverflowError) as exc:
        raise RegistryError(source, None, "valid YAML", exc.__class__.__name__) from None


SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, slots=True)
class Registry:
    accounts: tuple[Account, ...]
    problems: tuple[RegistryError, ...]

    def by_slug(self) -> dict[str, Account]:
        return {a.slug: a for a in self.accounts}


def registry_files(path: Path) -> list[str]:
    """Registry file names in `path`, sorted (so runs and reports are stable)."""
    with os.scandir(path) as entries:
        return sorted(
            e.name
            for e in entries
            if e.name.endswith(SUFFIXES)
            and not e.name.startswith(".")
            # A link is listed (and refused by load_registry), never followed here.
            and (e.is_symlink() or e.is_file(follow_symlinks=False))
        )


def _problem(source: str, exc: Exception) -> RegistryError:
    if isinstance(exc, RegistryError):
        return exc
    if isinstance(exc, OSError):
        return RegistryError(source, None, "a readable file", exc.strerror or str(exc))
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return RegistryError(source, None, "valid YAML", f"{problem}{where}")


_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)


def read_registry_file(source: str) -> bytes:
    """A registry file's first bytes; a symbolic link is refused, and its target never
    named: a link can point out of the folder (``/etc/...``, another checkout), and the
    problem text reaches the summary issue and the registry MR's note. O_NOFOLLOW refuses
    the link at the open itself (no gap between a check and the open, and no extra
    system call per file); where the platform lacks it, the link is checked first."""
    if not _NOFOLLOW and os.path.islink(source):
        raise RegistryError(source, None, "a regular file", "a symbolic link")
    flags = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        if os.path.islink(source):
            raise RegistryError(source, None, "a regular file", "a symbolic link") from None
        raise exc
    # Read straight off the descriptor (a file object per registry file was most of the
    # read's time), up to the same MAX_FILE_BYTES + 1 bytes, until the end of the file.
    try:
        chunks: list[bytes] = []
        left = MAX_FILE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_registry(path: Path, slugs: Sequence[str] = (), *, cache: Path | None = None) -> Registry:
    """Load every `*.yml` / `*.yaml` account file of `path`, sorted by file name.

    With `slugs`, only those accounts (and only problems in files that may be them)
    are returned; a slug that no file has is a UsageError, as is a missing directory.
    With a `cache` directory, a file whose bytes are those of the last run is not
    parsed again (registry_cache.py); the file is still read, and a link still refused.
    """
    if not path.is_dir():
        raise UsageError(f"{path}: account registry directory not found")
    wanted = set(slugs)
    parsed: list[Account] = []
    problems: list[RegistryError] = []
    problem_stems: set[str] = set()
    base = str(path)
    cached = registry_cache.read(cache) if cache is not None else {}
    entries: dict[str, registry_cache.Entry] = {}
    for name in registry_files(path):
        stem = name.rsplit(".", 1)[0]
        source = os.path.join(base, name)
        data: object = None
        try:
            raw = read_registry_file(source)
            key = None
            if cache is not None and len(raw) <= MAX_FILE_BYTES:
                key = registry_cache.digest(raw)
                entry = cached.get(source)
                if entry is not None and entry[0] == key:
                    entries[source] = entry
                    parsed.append(entry[1])
                    continue
            data = load_yaml(raw, source)
            account = parse_account(data, source, stem)
            if key is not None:
                entries[source] = (key, account)
        except (yaml.YAMLError, RegistryError, OSError) as exc:
            # A bad file may be the account asked for: by stem or by its own slug key.
            declared = data.get("slug") if isinstance(data, dict) else None
            names = {stem, declared} if isinstance(declared, str) else {stem}
            problem_stems |= names
            if not wanted or names & wanted:
                if isinstance(exc, RegistryErrors):
                    problems.extend(exc.errors)
                else:
                    problems.append(_problem(source, exc))
            continue
        parsed.append(account)
    if cache is not None and not registry_cache.holds(cached, entries):
        registry_cache.write(cache, entries, cached)
    # Two files claiming one slug: neither is the account (the one that sorts
    # first used to take it over); both are named, and the account is left untouched.
    claims: dict[str, list[Account]] = {}
    for account in parsed:
        claims.setdefault(account.slug, []).append(account)
    accounts: list[Account] = []
    seen: set[str] = set(claims)
    for slug, owners in claims.items():
        if len(owners) > 1:
            problem_stems.add(slug)
            if not wanted or slug in wanted:
                for owner in owners:
                    others = ", ".join(o.source for o in owners if o is not owner)
                    problems.append(
                        RegistryError(
                            owner.source,
                            "slug",
                            f"a slug no other file uses ({others} claims it too; "
                            f"neither file is used until one is fixed)",
                            repr(slug),
                        )
                    )
        elif not wanted or slug in wanted:
            accounts.append(owners[0])
    problems.sort(key=lambda p: p.file)  # by file, each file's problems in key order
    missing = [s for s in slugs if s not in seen and s not in problem_stems]
    if missing:
        raise UsageError(
            f"unknown account {', '.join(repr(s) for s in missing)}: no file in {path} has it"
        )
    return Registry(tuple(accounts), tuple(problems))
