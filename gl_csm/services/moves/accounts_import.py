"""`gl-csm accounts import FILE.csv`: upsert registry files from a CRM export (SPEC 2).

The column mapping is ``crm_import.columns`` of the config (CSV column -> registry
key; only keys the CRM owns, see ``config.CRM_KEYS``). Each row finds its account by
slug, else by name (case-insensitive); an account no file has gets a new
``<slug>.yml``.

Registry files are edited by people through merge requests, so an existing file is
changed line by line: only the values of the mapped keys change, and every other key,
comment, blank line and the key order stay as they were. The line editor is the one
every registry writer shares (``registry_writeback.edit_text``, so import, onboard and
handoff cannot drift apart in how they quote or where they put keys): top-level
scalars are replaced on their line (a trailing comment is kept); a nested key
(``team.csm``, ``seats.licensed``) is replaced inside its flow mapping
(``team: {csm: a, ae: b}``) or its block, or added to it. The edited text is then
read back and must equal the intended data, and the whole file must pass
``parse_account`` - all before anything is written (plan, then apply; ARCHITECTURE
rule 2). A bad row is reported with its CSV
line, column and what was expected; the good rows still go and the run exits 1. Each
file is replaced atomically. An empty cell means "no value from the CRM": the key is
left as it is. Importing the same CSV twice changes nothing the second time.

Data feeds (``--feed usage|support|nps``, ``domain/feeds.py``) go through the same
editor with the feed's own columns (``feeds.<name>.columns``): a feed row updates an
account the registry has (it never creates one), every row is dated (its as-of column,
else ``--as-of``), figures older than the file's are skipped with a note (an old export
replayed never undoes a newer one), and the import ends with the accounts whose figures
of that feed are stale or missing, so the team sees which exports to chase.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from gl_csm.config import Settings
from gl_csm.domain.account import SLUG_EXPECTED, SLUG_MAX, RegistryError, is_slug, parse_account
from gl_csm.domain.feeds import FEEDS, Feed
from gl_csm.domain.rules import Rules
from gl_csm.errors import GlCsmError, UsageError
from gl_csm.plan import Plan, Results
from gl_csm.registry import load_yaml, read_registry_file, registry_files
from gl_csm.registry_writeback import RegistryEditError, edit_text, scalar, write_atomically

#: Key order of a new registry file (SPEC 2 schema order).
NEW_FILE_ORDER: tuple[str, ...] = (
    "name",
    "slug",
    "segment",
    "region",
    "public_sector",
    "parent",
    "arr",
    "plan",
    "deployment",
    "seats",
    "customer_since",
    "renewal_date",
    "team",
)
_CHOICE_KEYS = ("segment", "plan", "deployment")
_DATE_KEYS = ("customer_since", "renewal_date", "usage.as_of", "support.as_of", "nps_as_of")
_BOOL_KEYS = (
    "public_sector",
    "support.advised_no_ticket",
    "support.emergency_open",
    "support.emergency_closed_last_7_days",
)
_COUNT_KEYS = ("seats.licensed", "seats.active", "support.tickets_last_30_days")
_RATIO_KEYS = ("usage.monthly_active", "usage.scm", "usage.ci", "usage.devsecops", "usage.cd")
_RATIO_RE = re.compile(r"^(\d+(\.\d+)?|\.\d+)\s*(%?)$")
_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0")
_AMOUNT_RE = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_COUNT_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)$")
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ][0-9:.+\-Z]*)?$")


class CellError(GlCsmError):
    """A CSV cell that is not what its registry key expects."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        super().__init__(expected)


# ---------------------------------------------------------------- CSV cells


def convert(key: str, raw: str) -> Any:
    """A CSV cell as the YAML value of registry key ``key`` (SPEC 2 types)."""
    text = raw.strip()
    if key in _CHOICE_KEYS:
        return "-".join(text.lower().split())
    if key in _BOOL_KEYS:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise CellError("true or false (also yes/no, 1/0)")
    if key in _RATIO_KEYS:
        # Usage exports give shares as 0.62 or as 62%.
        found = _RATIO_RE.match(text)
        if not found:
            raise CellError("a share like 0.62 or 62%")
        value = float(found.group(1))
        return round(value / 100, 6) if found.group(3) else value
    if key == "nps":
        if not text.isdigit() or not 0 <= int(text) <= 10:
            raise CellError("an NPS answer from 0 to 10")
        return int(text)
    if key == "arr":
        if not _AMOUNT_RE.match(text):
            raise CellError("an amount in USD like 250000 or 250,000.00")
        number = float(text.lstrip("$").strip().replace(",", ""))
        return int(number) if number.is_integer() else number
    if key in _COUNT_KEYS:
        if not _COUNT_RE.match(text):
            raise CellError("a whole number like 1000")
        return int(text.replace(",", ""))
    if key == "slug":
        # A slug becomes a file name: "../outside/pwned" or "/etc/x" must never be one.
        if not is_slug(text):
            raise CellError(SLUG_EXPECTED)
        return text
    if key in _DATE_KEYS:
        found = _DATE_RE.match(text)
        try:
            return date.fromisoformat(found.group(1)) if found else _bad_date()
        except ValueError:
            return _bad_date()
    return text


def _bad_date() -> Any:
    raise CellError("a date YYYY-MM-DD")


def slugify(name: str) -> str:
    """A registry slug (``[a-z0-9-]+``) from an account name."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))[:SLUG_MAX].rstrip("-")


# ---------------------------------------------------------------- nested data


def get_path(data: Mapping[str, Any], key: str) -> Any:
    head, _, tail = key.partition(".")
    value = data.get(head)
    if not tail:
        return value
    return value.get(tail) if isinstance(value, Mapping) else None


def set_path(data: dict[str, Any], key: str, value: Any) -> None:
    head, _, tail = key.partition(".")
    if not tail:
        data[head] = value
        return
    inner = data.get(head)
    data[head] = {**(inner if isinstance(inner, Mapping) else {}), tail: value}


def same(old: Any, new: Any) -> bool:
    """Equal as registry values (250000 == 250000.0, but True != 1)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    return old == new


def new_file_text(data: Mapping[str, Any], csv_name: str) -> str:
    """A new registry file in SPEC 2 order; nested keys in flow style like the samples."""
    lines = [f"# Created by `gl-csm accounts import {csv_name}` (CRM export)."]
    for key in NEW_FILE_ORDER:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, Mapping):
            inner = ", ".join(f"{k}: {scalar(v)}" for k, v in value.items())
            lines.append(f"{key}: {{{inner}}}")
        else:
            lines.append(f"{key}: {scalar(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the registry


@dataclass
class RegistryFile:
    path: Path
    text: str
    data: dict[str, Any]

    @property
    def slug(self) -> str:
        value = self.data.get("slug")
        return value if isinstance(value, str) else self.path.name.rsplit(".", 1)[0]


@dataclass
class Index:
    by_slug: dict[str, RegistryFile]
    by_name: dict[str, RegistryFile]
    broken: dict[str, str]  # stem -> why the file could not be read


def index_registry(accounts_dir: Path) -> Index:
    index = Index({}, {}, {})
    if not accounts_dir.is_dir():
        raise UsageError(f"{accounts_dir}: account registry directory not found")
    for name in registry_files(accounts_dir):
        path = accounts_dir / name
        try:
            # The registry loader's own limits (size, UTF-8, no aliases): a YAML bomb in
            # a registry file is a broken file here too, not minutes of CPU.
            raw = read_registry_file(str(path))  # a symbolic link is refused
            data = load_yaml(raw, str(path))
            text = raw.decode("utf-8-sig")
        except RegistryError as exc:
            index.broken[name.rsplit(".", 1)[0]] = f"expected {exc.expected}, got {exc.got}"
            continue
        except (OSError, yaml.YAMLError) as exc:
            index.broken[name.rsplit(".", 1)[0]] = str(exc).splitlines()[0]
            continue
        if not isinstance(data, dict):
            index.broken[name.rsplit(".", 1)[0]] = "not a mapping"
            continue
        entry = RegistryFile(path, text, data)
        index.by_slug.setdefault(entry.slug, entry)
        if isinstance(data.get("name"), str):
            index.by_name.setdefault(data["name"].casefold(), entry)
    return index


# ---------------------------------------------------------------- rows -> plan


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # registry key -> non-empty cell text
    columns: dict[str, str]  # registry key -> CSV column name
    problem: str | None = None  # a row the CSV reader could not read as text


#: Python's csv module refuses longer fields (csv.field_size_limit); no registry value
#: comes near it.
CELL_LIMIT = csv.field_size_limit()
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


class RowError(GlCsmError):
    def __init__(self, where: str, row: Row, key: str | None, expected: str, got: str) -> None:
        column = row.columns.get(key or "")
        at = f"column '{column}' ({key})" if column else (f"key '{key}'" if key else "row")
        super().__init__(f"{where}:{row.line}: {at}: expected {expected}, got {got}")


def read_rows(path: Path, columns: Mapping[str, str]) -> Iterator[Row]:
    """The CSV's data rows with the mapped, non-empty cells (UTF-8, Excel BOM allowed).

    A row the reader cannot take (a cell that is not UTF-8, e.g. a latin-1 export; a
    cell over CELL_LIMIT characters) comes back with its ``problem``; the rows after it
    are still read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the CSV file: {exc.strerror}") from None
    # Undecodable bytes become lone surrogates: the row that holds them is refused.
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise UsageError(f"{path}: line 1: cannot read the CSV header: {exc}") from None
    if any(_NOT_UTF8.search(h) for h in header):
        raise UsageError(
            f"{path}: line 1: expected UTF-8 text (save the export as CSV UTF-8), got other bytes"
        )
    used = {c: k for c, k in columns.items() if c in header}
    if not {"name", "slug"} & set(used.values()):
        wanted = [c for c, k in columns.items() if k in ("name", "slug")]
        raise UsageError(
            f"{path}: expected a column {' or '.join(repr(c) for c in wanted)} "
            f"(crm_import.columns), found columns {', '.join(header) or 'none'}"
        )
    by_key = {k: c for c, k in used.items()}
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            too_long = "field larger than field limit" in str(exc)
            problem = (
                f"expected cells of at most {CELL_LIMIT:,} characters, got a longer one"
                if too_long
                else f"expected a CSV row, got {exc}"
            )
            yield Row(line, {}, by_key, problem)
            line = reader.line_num + 1
            continue
        cells = {k: (record.get(c) or "") for c, k in used.items()}
        bad = [k for k, v in cells.items() if _NOT_UTF8.search(v)]
        if bad:
            yield Row(
                line,
                {},
                by_key,
                f"column '{by_key[bad[0]]}' ({bad[0]}): expected UTF-8 text (save the export "
                f"as CSV UTF-8), got bytes that are not (latin-1?)",
            )
        else:
            yield Row(line, {k: v for k, v in cells.items() if v.strip()}, by_key)
        line = reader.line_num + 1


@dataclass
class Upsert:
    """One file to write: its new text and which keys changed."""

    path: Path
    old_text: str | None
    new_text: str
    changed: list[str]


def _values(where: str, row: Row) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in row.cells.items():
        try:
            values[key] = convert(key, raw)
        except CellError as exc:
            raise RowError(where, row, key, exc.expected, repr(raw)) from None
    return values


def _target(where: str, row: Row, values: dict[str, Any], index: Index) -> RegistryFile | str:
    """The existing file of the row's account, or the slug of a new one."""
    slug, name = values.get("slug"), values.get("name")
    by_name = index.by_name.get(name.casefold()) if isinstance(name, str) else None
    if isinstance(slug, str):
        found = index.by_slug.get(slug)
        if found is None and by_name is not None:
            raise RowError(
                where,
                row,
                "slug",
                f"the slug of {by_name.path.name} ({by_name.slug!r}), which has the name {name!r}",
                repr(slug),
            )
        return found or slug
    if by_name is not None:
        return by_name
    new_slug = slugify(name or "")
    if not new_slug:
        raise RowError(where, row, "name", "a name with letters or digits", repr(name))
    return new_slug


def plan_row(where: str, row: Row, index: Index, accounts_dir: Path) -> Upsert | None:
    """The file change one row asks for (None when the file already says it all)."""
    if not row.cells.keys() & {"name", "slug"}:
        raise RowError(where, row, None, "a value in the name or slug column", "empty cells")
    values = _values(where, row)
    target = _target(where, row, values, index)
    if isinstance(target, str):
        if not is_slug(target):  # never a path outside accounts/
            raise RowError(where, row, "slug", SLUG_EXPECTED, repr(target))
        if target in index.broken:
            raise RowError(where, row, None, f"a readable {target}.yml", index.broken[target])
        path, old_text, old = accounts_dir / f"{target}.yml", None, {}
        if path.exists():
            # The file has another slug key, or the row's name differs from the file's.
            key = "slug" if "slug" in values else "name"
            expected = f"the {key} of the account in {path.name}, or a new one"
            raise RowError(where, row, key, expected, repr(values[key]))
    else:
        path, old_text, old = target.path, target.text, target.data
    return _upsert(where, row, path, old_text, old, values)


def _upsert(
    where: str,
    row: Row,
    path: Path,
    old_text: str | None,
    old: dict[str, Any],
    values: dict[str, Any],
) -> Upsert | None:
    """The change of one file to hold ``values`` (None when it already does)."""
    # A key the file leaves out means its default (SPEC 2: the slug is the file name,
    # public_sector false): a CRM value equal to it is no change, so no noisy line.
    implied = {"slug": path.name.rsplit(".", 1)[0], "public_sector": False}
    updates = {
        k: v
        for k, v in values.items()
        if not same(get_path(old, k), v)
        and not (get_path(old, k) is None and k in implied and same(implied[k], v))
    }
    if not updates:
        return None
    data = copy.deepcopy(old)
    for key, value in updates.items():
        set_path(data, key, value)
    new_text = _new_text(where, row, path, old_text, updates, data)
    _validate(where, row, path, new_text)
    return Upsert(path, old_text, new_text, sorted(updates))


def _new_text(
    where: str, row: Row, path: Path, old_text: str | None, updates: dict, data: dict
) -> str:
    if old_text is None:
        return new_file_text(data, Path(where).name)
    try:
        text = edit_text(old_text, updates)
    except RegistryEditError as exc:
        raise RowError(where, row, None, f"{path.name} editable in place", str(exc)) from None
    try:
        readback = yaml.safe_load(text)
    except yaml.YAMLError:
        readback = None
    if readback != data:
        raise RowError(
            where, row, None, f"{path.name} editable in place", "a layout this tool cannot edit"
        )
    return text


def _validate(where: str, row: Row, path: Path, text: str) -> None:
    """The resulting file must be a valid account (SPEC 2) before anything is written."""
    try:
        parse_account(yaml.safe_load(text), str(path), path.name.rsplit(".", 1)[0])
    except RegistryError as exc:
        if exc.key is not None and exc.key in row.columns:
            raise RowError(where, row, exc.key, exc.expected, exc.got) from None
        raise GlCsmError(f"{where}:{row.line}: the resulting file is not valid: {exc}") from None


def _display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def plan_import(settings: Settings, csv_path: Path) -> Plan:
    """Plan the upserts of one CRM export (SPEC 2); bad rows become failures."""
    plan = Plan()
    index = index_registry(settings.accounts_dir)
    where = str(csv_path)
    seen: dict[Path, int] = {}
    for row in read_rows(csv_path, settings.crm_columns):
        if row.problem is not None:
            plan.fail(None, f"{where}:{row.line}: {row.problem}")
            continue
        try:
            upsert = plan_row(where, row, index, settings.accounts_dir)
        except GlCsmError as exc:
            plan.fail(None, str(exc))
            continue
        if upsert is None:
            continue
        if upsert.path in seen:
            plan.fail(
                None,
                f"{where}:{row.line}: account of {upsert.path.name} is already "
                f"imported from line {seen[upsert.path]}",
            )
            continue
        seen[upsert.path] = row.line
        _add(plan, upsert)
    return plan


def _add(plan: Plan, upsert: Upsert) -> None:
    def run(_gateway: Any, _results: Results) -> None:
        write_atomically(
            upsert.path, upsert.new_text, check_unchanged=True, old_text=upsert.old_text
        )

    slug = upsert.path.name.rsplit(".", 1)[0]
    if upsert.old_text is None:
        plan.add(
            "create-file",
            _display(upsert.path),
            f"new account ({', '.join(upsert.changed)})",
            run,
            account=slug,
        )
    else:
        plan.add(
            "update-file",
            _display(upsert.path),
            f"changed {', '.join(upsert.changed)}",
            run,
            account=slug,
        )


# ---------------------------------------------------------------- data feeds


@dataclass(frozen=True)
class StaleFeed:
    """An account whose figures of one feed have no data in the health score."""

    account: str
    feed: str
    as_of: date | None
    days: int | None

    def to_json(self) -> dict[str, Any]:
        when = self.as_of.isoformat() if self.as_of else None
        return {"account": self.account, "feed": self.feed, "as_of": when, "days": self.days}

    def to_text(self) -> str:
        if self.as_of is None:
            return f"  {self.account}: never imported"
        return f"  {self.account}: as of {self.as_of.isoformat()} ({self.days} days old)"


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value.strip())
    return None


def _feed_row(
    where: str,
    row: Row,
    feed: Feed,
    index: Index,
    as_of: date | None,
    notes: list[str],
) -> tuple[RegistryFile, Upsert | None] | None:
    """One feed row: its account's file and the change (None: the row is skipped)."""
    if not row.cells.keys() & {"name", "slug"}:
        raise RowError(where, row, None, "a value in the name or slug column", "empty cells")
    values = _values(where, row)
    if feed.as_of not in values:
        if as_of is None:
            raise RowError(
                where,
                row,
                feed.as_of,
                f"the date of the figures ({feed.as_of}: a column, or --as-of DATE)",
                "none",
            )
        values[feed.as_of] = as_of
    slug, name = values.pop("slug", None), values.pop("name", None)
    target = index.by_slug.get(slug) if isinstance(slug, str) else None
    if target is None and isinstance(name, str):
        target = index.by_name.get(name.casefold())
    if target is None:
        key = "slug" if slug is not None else "name"
        raise RowError(
            where,
            row,
            key,
            "an account of the registry (a feed updates accounts; the CRM import creates them)",
            repr(slug if slug is not None else name),
        )
    current = _as_date(get_path(target.data, feed.as_of))
    if current is not None and values[feed.as_of] < current:
        notes.append(
            f"{where}:{row.line}: {target.slug}: {feed.what} of "
            f"{values[feed.as_of].isoformat()} are older than the registry's "
            f"({current.isoformat()}): row skipped"
        )
        return None
    return target, _upsert(where, row, target.path, target.text, target.data, values)


def stale_feeds(
    index: Index, feed: Feed, rules: Rules, today: date, imported: Mapping[str, date]
) -> list[StaleFeed]:
    """Paid accounts whose figures of ``feed`` are missing or past its staleness rule,
    counting what this import brings (``imported``: slug -> new as-of)."""
    limit = feed.stale_after(rules)
    stale: list[StaleFeed] = []
    for slug, entry in sorted(index.by_slug.items()):
        if entry.data.get("customer_since") is None or entry.data.get("digital") is True:
            continue  # pre-sales and digital accounts have no health to feed
        as_of = imported.get(slug) or _as_date(get_path(entry.data, feed.as_of))
        days = None if as_of is None else today.toordinal() - as_of.toordinal()
        if as_of is None or (days is not None and days >= limit):
            stale.append(StaleFeed(slug, feed.name, as_of, days))
    return stale


def plan_feed_import(
    settings: Settings,
    csv_path: Path,
    feed_name: str,
    today: date,
    as_of: date | None = None,
) -> tuple[Plan, list[StaleFeed]]:
    """Plan one data feed's upserts, and the accounts its figures are stale for."""
    feed = FEEDS[feed_name]
    plan = Plan()
    index = index_registry(settings.accounts_dir)
    where = str(csv_path)
    seen: dict[Path, int] = {}
    imported: dict[str, date] = {}
    for row in read_rows(csv_path, settings.feed_columns[feed_name]):
        if row.problem is not None:
            plan.fail(None, f"{where}:{row.line}: {row.problem}")
            continue
        try:
            found = _feed_row(where, row, feed, index, as_of, plan.notes)
        except GlCsmError as exc:
            plan.fail(None, str(exc))
            continue
        if found is None:
            continue
        target, upsert = found
        if target.path in seen:
            plan.fail(
                None,
                f"{where}:{row.line}: account of {target.path.name} is already "
                f"imported from line {seen[target.path]}",
            )
            continue
        seen[target.path] = row.line
        dated = _as_date(get_path(yaml.safe_load(upsert.new_text), feed.as_of)) if upsert else None
        if dated is not None:
            imported[target.slug] = dated
        if upsert is not None:
            _add(plan, upsert)
    stale = stale_feeds(index, feed, settings.rules, today, imported)
    if stale:
        limit = feed.stale_after(settings.rules)
        plan.notes.append(
            f"Stale {feed.name} feed: {len(stale)} paid account(s) whose {feed.what} are "
            f"missing or {limit}+ days old (health leaves them out):"
        )
        plan.notes.extend(s.to_text() for s in stale)
    return plan, stale
