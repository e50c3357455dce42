"""The portfolio history in GitLab: CSV files in the accounts project's repository.

Each triage run appends the rows of the accounts whose health, score, priority or
lifecycle changed (:mod:`gl_csm.domain.history`) to its own file of the year, in one
commit: ``history/portfolio-YYYY.csv`` for a whole-portfolio run,
``history/portfolio-YYYY-shard-I-of-N.csv`` for a CI shard, so parallel shards never
write the same file (the commits API would let the last writer win). A new year's file
starts with the state carried into the year and the rows of the last days of the year
before, so a run reads one listing of ``history/`` and the files of its year: what it
reads and re-sends is bounded by a year, in the portfolio's third year as in its first
week (:mod:`gl_csm.domain.history_periods` says which rows are carried and which files
are read). Files of earlier versions (``history/portfolio.csv``,
``history/portfolio-shard-I-of-N.csv``) are never rewritten: they are read while no
year's files cover the days asked about, and the first yearly file copies their rows
of its year. Changing the number of shards loses nothing: the files of every shard
layout of a year are read.

Why a file and not the summary issue: an issue description is limited to 1,048,576
characters (doc/user/markdown.md) and is re-sent whole on every update, while the
history of 5,000 accounts over a year is several MB; the repository keeps every
version (git log is the audit trail) and a file is read with one raw request.

What reads older rows than the run reads: the EBR brief's list of health changes and
the state of an account on the day a triage issue opened (for an issue opened before
its hidden line was written) see the rows read, the year's and the state carried into
it; every window the card, the report and the dashboard show is read whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from gl_csm import markers
from gl_csm.domain.history import (
    GroupedHistory,
    HistoryRow,
    change_words,
    group,
    health_since,
    latest,
    measure_changes,
    merged_text,
    read_csv,
    score_trend,
    to_csv,
    trend_words,
)
from gl_csm.domain.history_periods import (
    FOLDER,
    file_for,
    files_to_read,
    merge_rows,
    parse_name,
    year_opening,
)
from gl_csm.domain.measures.registry import keys as measure_keys
from gl_csm.domain.rules import HistoryRules
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.triage.shards import in_shard

__all__ = ["FOLDER", "History", "file_for", "history_data", "load_history", "plan_history"]


def window_start(today: date, rules: HistoryRules, *also: date | None) -> date:
    """The first day a run asks the history about: its trend and measure windows, and
    any other day the caller names (the report's 12 weeks, the previous report)."""
    first = today - timedelta(days=max(rules.trend_days, rules.measure_days))
    return min([first, *(d for d in also if d is not None)])


@dataclass
class History:
    """Every row read (none dated after the run's day; a row read twice is one), the
    text of each file read (to write to) and its rows, the branch, the lines skipped,
    the accounts that have a row dated after the run's day (the last date of each), and
    the files of a year after the run's day (a run dated in the past writes nothing)."""

    project: str
    branch: str
    texts: dict[str, str] = field(default_factory=dict)
    rows: list[HistoryRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    later: dict[str, date] = field(default_factory=dict)
    file_rows: dict[str, list[HistoryRow]] = field(default_factory=dict)
    later_files: tuple[str, ...] = ()

    def grouped(self) -> GroupedHistory:
        return group(self.rows, self.skipped)

    def latest(self) -> dict[str, HistoryRow]:
        return latest(self.rows)


def load_history(gateway: Gateway, project: dict, today: date, since: date) -> History:
    """Read the files of ``history/`` that answer every question about the days
    ``since`` .. ``today``: 1 listing + 1 read a file, the year's (and the year before's
    only while ``since`` is before what the year's files cover). Lenient: a line a
    person broke is skipped and named (the report lists it), never a reason to stop
    every account's run; rows dated after ``today`` are left out."""
    path = project["path_with_namespace"]
    branch = project.get("default_branch") or "main"
    found = History(path, branch)
    names = [
        e.get("path") or ""
        for e in gateway.folder(path, FOLDER, branch)
        if e.get("type") == "blob" and (e.get("path") or "").endswith(".csv")
    ]
    plan = files_to_read(names, today, since)
    found.later_files = plan.later
    rows: list[HistoryRow] = []
    for name in reversed(plan.read):  # oldest first: file order is the order of a day
        text = gateway.file_text(path, name, branch) or ""
        read = read_csv(text, name, today)
        rows.extend(read.rows)
        found.skipped.extend(read.skipped)
        found.texts[name] = text
        found.file_rows[name] = read.rows
        # Rows after today, only to know whose history must not be written this run.
        for row in read_csv(text, name, date.max).rows:
            if row.day > today:
                found.later[row.account] = max(row.day, found.later.get(row.account, row.day))
    found.rows = merge_rows(rows)
    return found


def _opening(history: History, year: int, shard: tuple[int, int] | None) -> str:
    """A new file of ``year``: the state carried into the year of this run's accounts,
    and their rows of the year in the old single files (domain/history_periods.py)."""
    old_files = [
        row
        for name, rows in history.file_rows.items()
        if parse_name(name).year is None
        for row in rows
    ]
    opening = year_opening(history.rows, old_files, year, lambda a: in_shard(a, shard))
    return to_csv(opening, header=True)


def plan_history(
    plan: Plan,
    history: History,
    rows: Iterable[HistoryRow],
    today: date,
    shard: tuple[int, int] | None,
) -> None:
    """One commit writing ``rows`` (already only the changes) into this run's file of
    the year: a row of a (date, account) the file has replaces it, the others are
    appended; a new year's file starts with the state carried into the year. An account
    with a row dated after ``today`` (a run dated in the past, a rehearsal with a future
    date) is not written, and said so; nor is anything when a file of a later year
    exists (an earlier year's file is never rewritten); so are the lines skipped."""
    for problem in history.skipped:
        plan.notes.append(f"history: skipped {problem} (fix or remove the line)")
    rows = list(rows)
    if history.later_files and rows:
        plan.notes.append(
            f"history: not written for {len(rows)} account(s): {history.later_files[-1]} "
            f"is of a year after this run's day {today.isoformat()}"
        )
        return
    held = sorted(r.account for r in rows if r.account in history.later)
    if held:
        last = max(history.later[a] for a in held)
        plan.notes.append(
            f"history: not written for {len(held)} account(s) ({', '.join(held[:5])}"
            f"{', ...' if len(held) > 5 else ''}): the history has rows up to "
            f"{last.isoformat()}, after this run's day {today.isoformat()}"
        )
    rows = sorted((r for r in rows if r.account not in history.later), key=lambda r: r.account)
    if not rows:
        return
    name = file_for(shard, today.year)
    existing = history.texts.get(name)
    opening = _opening(history, today.year, shard) if existing is None else None
    content = merged_text(existing if opening is None else opening, rows)
    if content == existing:
        return
    # The content's digest keys the commit: a retry after a lost answer finds it, and a
    # second run of the same day with other changes is a commit of its own.
    digest = hashlib.sha1(content.encode("utf-8")).hexdigest()[:12]
    token = markers.token("history", f"{today.isoformat()}:{digest}")
    message = f"Portfolio history {today.isoformat()}: {len(rows)} account(s) changed\n\n{token}"
    action = {
        "action": "update" if existing is not None else "create",
        "file_path": name,
        "content": content,
    }
    carried = len(opening.splitlines()) - 1 if opening is not None else 0
    start = f"start the year's file with {carried} row(s) carried from before; " if carried else ""
    plan.add(
        "commit-history",
        f"project {history.project} {name}",
        f"{start}append {len(rows)} changed account(s) of {today.isoformat()}",
        lambda gw, _r: gw.commit(history.project, history.branch, message, [action], token),
    )


def history_data(
    past: list[HistoryRow], now: HistoryRow, today: date, rules: HistoryRules
) -> dict[str, object]:
    """What the card shows of the history, as hidden card data: since when the account
    has its health, its score trend, and each measure that moved over
    ``rules.measure_days`` (all stable from one day to the next: dates, not day counts)."""
    same = bool(past) and past[-1].state == now.state
    rows = past if same else [*past, now]
    out: dict[str, object] = {}
    since = health_since(rows)
    if now.health is not None and since is not None:
        out["health_since"] = since.isoformat()
    words = trend_words(score_trend(rows, today, rules.trend_days))
    if words:
        out["score_trend"] = words
    # Today's values, from the run (the history's row of today is written after the card).
    measured = [*past, HistoryRow(today, now.account, *now.state, now.measures)]
    moved = measure_changes(measured, today, measure_keys(), rules.measure_days)
    if moved:
        out["measure_changes"] = [change_words(c) for c in moved]
    return out
