"""Read the account registry (SPEC 2): one YAML file per account in a directory.

One bad file (YAML syntax, validation, duplicate slug) is reported as a problem and
never stops the others from loading; the caller exits non-zero at the end.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from gl_csm.domain.account import Account, RegistryError, parse_account
from gl_csm.errors import UsageError

# libyaml's loader is several times faster; PyYAML without libyaml lacks it.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
            if e.name.endswith(SUFFIXES) and not e.name.startswith(".") and e.is_file()
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


def load_registry(path: Path, slugs: Sequence[str] = ()) -> Registry:
    """Load every `*.yml` / `*.yaml` account file of `path`, sorted by file name.

    With `slugs`, only those accounts (and only problems in files that may be them)
    are returned; a slug that no file has is a UsageError, as is a missing directory.
    """
    if not path.is_dir():
        raise UsageError(f"{path}: account registry directory not found")
    wanted = set(slugs)
    accounts: list[Account] = []
    problems: list[RegistryError] = []
    seen: dict[str, str] = {}
    problem_stems: set[str] = set()
    base = str(path)
    for name in registry_files(path):
        stem = name.rsplit(".", 1)[0]
        source = os.path.join(base, name)
        data: object = None
        try:
            with open(source, "rb") as handle:
                data = yaml.load(handle.read(), Loader=_Loader)
            account = parse_account(data, source, stem)
        except (yaml.YAMLError, RegistryError, OSError) as exc:
            # A bad file may be the account asked for: by stem or by its own slug key.
            declared = data.get("slug") if isinstance(data, dict) else None
            names = {stem, declared} if isinstance(declared, str) else {stem}
            problem_stems |= names
            if not wanted or names & wanted:
                problems.append(_problem(source, exc))
            continue
        if account.slug in seen:
            if not wanted or account.slug in wanted:
                problems.append(
                    RegistryError(
                        source,
                        "slug",
                        f"a slug no other file uses ({seen[account.slug]} has it)",
                        repr(account.slug),
                    )
                )
            continue
        seen[account.slug] = source
        if not wanted or account.slug in wanted:
            accounts.append(account)
    missing = [s for s in slugs if s not in seen and s not in problem_stems]
    if missing:
        raise UsageError(
            f"unknown account {', '.join(repr(s) for s in missing)}: no file in {path} has it"
        )
    return Registry(tuple(accounts), tuple(problems))
