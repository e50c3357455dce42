"""The portfolio history kept in one file a year, so a run reads and writes a bounded
amount however old the portfolio is (SPEC 5 Portfolio view). Pure: names and rows.

Files (``history/``, one folder listing finds them all):

* ``portfolio-YYYY.csv`` (``portfolio-YYYY-shard-I-of-N.csv`` for a CI shard): the rows
  of year YYYY. The run that creates a year's file starts it with what the year needs
  of the years before, copied with the rows' own dates (old files are never rewritten):
  every row of the last :data:`LOOKBACK_DAYS` days of the year before (the card's and
  the report's windows reach back that far on 1 January), and before those, **the
  state carried in**: for each account (of its shard) the rows that still answer a
  question: its last :data:`LAST_ROWS_CARRIED` rows (the EBR brief lists them), the
  first row of its current health streak and the row before it (so "red since" a date
  years old still reads), and for each measure the row that recorded its latest value,
  holding that measure only (so "down from 21% on DATE" keeps the date the value was
  recorded); a carried row holds only the measures whose latest value it recorded.
  A year's files alone therefore answer every question about a day from
  :data:`LOOKBACK_DAYS` days before the year on.
* ``portfolio.csv`` and ``portfolio-shard-I-of-N.csv`` (and any other ``*.csv`` a person
  put there): the single files of gl-csm before yearly files. Never rewritten; read
  only while no year's files cover the days asked about. The first yearly file also
  copies their rows dated in its year, so after the upgrade they are no longer read.

A year's files are **complete** when they hold every account's carried state: its
``portfolio-YYYY.csv``, or ``portfolio-YYYY-shard-I-of-N.csv`` for every I of one N.
A run reads the files of its year, then of the years before, until it has read a
complete year that covers the first day it asks about (its windows:
``rules.history.trend_days``, ``rules.history.measure_days``; the report's 12 weeks):
one year's files, whatever the portfolio's age, while those windows are at most
:data:`LOOKBACK_DAYS` days; the year before's too in the first days of a year when a
window is longer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from gl_csm.domain.history import HistoryRow, by_account

FOLDER = "history"
#: Days before 1 January whose rows a new year's file copies whole: the longest window
#: of the default rules (`rules.history.measure_days`, 90; the report's 12 weeks).
LOOKBACK_DAYS = 92
#: Each account's last rows a new year's file carries whole (state; measures as any
#: carried row): the health changes the EBR brief lists (services/triage/ebr_brief.py).
LAST_ROWS_CARRIED = 6
_NAME = re.compile(r"^portfolio-(\d{4})(?:-shard-(\d+)-of-(\d+))?\.csv$")


def file_for(shard: tuple[int, int] | None, year: int) -> str:
    """The file a run of ``year`` writes (its shard's own, so parallel shards never
    write the same file: the commits API lets the last writer win)."""
    if shard is None:
        return f"{FOLDER}/portfolio-{year}.csv"
    return f"{FOLDER}/portfolio-{year}-shard-{shard[0]}-of-{shard[1]}.csv"


@dataclass(frozen=True)
class HistoryFile:
    path: str
    year: int | None  # None: a file of gl-csm before yearly files, or a person's
    shard: tuple[int, int] | None = None


def parse_name(path: str) -> HistoryFile:
    found = _NAME.match(path.rsplit("/", 1)[-1])
    if found is None:
        return HistoryFile(path, None)
    year, index, total = found.groups()
    shard = (int(index), int(total)) if index else None
    return HistoryFile(path, int(year), shard)


def year_start(year: int) -> date:
    return date(year, 1, 1)


def covered_from(year: int) -> date:
    """The first day a complete year's files answer every question about."""
    return year_start(year) - timedelta(days=LOOKBACK_DAYS)


def complete(files: Iterable[HistoryFile]) -> bool:
    """A year whose files hold every account's carried state (module docstring)."""
    shards: dict[int, set[int]] = {}
    for f in files:
        if f.shard is None:
            return True
        shards.setdefault(f.shard[1], set()).add(f.shard[0])
    return any(found >= set(range(1, total + 1)) for total, found in shards.items())


@dataclass(frozen=True)
class ReadingPlan:
    """The files to read (newest year first, then the old single files if needed) and
    the files of a year after the run's (a run dated in the past must not write)."""

    read: tuple[str, ...]
    later: tuple[str, ...]


def files_to_read(paths: Iterable[str], today: date, since: date) -> ReadingPlan:
    """The files that answer every question about the days ``since`` .. ``today``."""
    files = [parse_name(p) for p in paths]
    later = tuple(sorted(f.path for f in files if f.year is not None and f.year > today.year))
    years = sorted({f.year for f in files if f.year is not None and f.year <= today.year})
    read: list[str] = []
    for year in reversed(years):
        of_year = [f for f in files if f.year == year]
        read += sorted(f.path for f in of_year)
        if complete(of_year) and covered_from(year) <= since:
            return ReadingPlan(tuple(read), later)
    read += sorted(f.path for f in files if f.year is None)
    return ReadingPlan(tuple(read), later)


def merge_rows(rows: Iterable[HistoryRow]) -> list[HistoryRow]:
    """Rows of several files as one history: a row found twice (a carried or copied row
    and its original, read together) is one row, holding the measures of both."""
    out: list[HistoryRow] = []
    index: dict[tuple, int] = {}
    for row in rows:
        key = (row.day, row.account, row.state)
        at = index.get(key)
        if at is None:
            index[key] = len(out)
            out.append(row)
            continue
        measures = dict(out[at].measures)
        measures.update(row.measures)
        out[at] = replace(out[at], measures=tuple(measures.items()))
    return out


def carried(rows: Sequence[HistoryRow], start: date) -> list[HistoryRow]:
    """The rows of one account (oldest first) that still answer a question on ``start``
    and after (module docstring), with their own dates; the rows from ``start`` on are
    not looked at."""
    before = [r for r in rows if r.day < start]
    if not before:
        return []
    keep = set(range(max(0, len(before) - LAST_ROWS_CARRIED), len(before)))
    streak = len(before) - 1
    while streak > 0 and before[streak - 1].health == before[-1].health:
        streak -= 1
    keep |= {streak, streak - 1} - {-1}
    last_of: dict[str, int] = {}
    for at, row in enumerate(before):
        for key, _ in row.measures:
            last_of[key] = at
    keep |= set(last_of.values())
    return [
        replace(
            before[at],
            measures=tuple((k, v) for k, v in before[at].measures if last_of.get(k) == at),
        )
        for at in sorted(keep)
    ]


def year_opening(
    rows: Sequence[HistoryRow],
    old_files: Sequence[HistoryRow],
    year: int,
    mine: Callable[[str], bool],
) -> list[HistoryRow]:
    """The rows a new file of ``year`` starts with, for the accounts ``mine`` keeps: the
    state carried in, the rows of the :data:`LOOKBACK_DAYS` days before the year (both
    from ``rows``, everything read), then the rows of the old single files dated in the
    year (``old_files``), which no year's file holds yet."""
    cut, start = covered_from(year), year_start(year)
    out: list[HistoryRow] = []
    for account, own in sorted(by_account(rows).items()):
        if mine(account):
            out += carried(own, cut) + [r for r in own if cut <= r.day < start]
    out += [r for r in old_files if r.day >= start and mine(r.account)]
    return out
