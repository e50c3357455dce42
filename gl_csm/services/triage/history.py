"""The portfolio history in GitLab: CSV files in the accounts project's repository.

Each triage run appends the rows of the accounts whose health, score, priority or
lifecycle changed (:mod:`gl_csm.domain.history`) to its own file, in one commit:
``history/portfolio.csv`` for a whole-portfolio run, ``history/portfolio-shard-I-of-N.csv``
for a CI shard, so parallel shards never write the same file (the commits API would
let the last writer win). Reading merges every ``history/*.csv``, so changing the
number of shards loses nothing.

Why a file and not the summary issue: an issue description is limited to 1,048,576
characters (doc/user/markdown.md) and is re-sent whole on every update, while the
history of 5,000 accounts over 3 years is several MB; the repository keeps every
version (git log is the audit trail) and the file is read with one raw request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

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
    trend_words,
)
from gl_csm.domain.measures.registry import keys as measure_keys
from gl_csm.domain.rules import HistoryRules
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan

FOLDER = "history"


def file_for(shard: tuple[int, int] | None) -> str:
    if shard is None:
        return f"{FOLDER}/portfolio.csv"
    return f"{FOLDER}/portfolio-shard-{shard[0]}-of-{shard[1]}.csv"


@dataclass
class History:
    """Every row read (none dated after the run's day), the text of each file (to write
    to), the branch they are on, the lines skipped, and the accounts that have a row
    dated after the run's day (the last date of each)."""

    project: str
    branch: str
    texts: dict[str, str] = field(default_factory=dict)
    rows: list[HistoryRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    later: dict[str, date] = field(default_factory=dict)

    def grouped(self) -> GroupedHistory:
        return group(self.rows, self.skipped)

    def latest(self) -> dict[str, HistoryRow]:
        return latest(self.rows)


def load_history(gateway: Gateway, project: dict, today: date) -> History:
    """Read ``history/*.csv`` of the project's default branch (1 listing + 1 read a file).
    Lenient: a line a person broke is skipped and named (the report lists it), never a
    reason to stop every account's run; rows dated after ``today`` are left out."""
    path = project["path_with_namespace"]
    branch = project.get("default_branch") or "main"
    found = History(path, branch)
    for entry in gateway.folder(path, FOLDER, branch):
        name = entry.get("path") or ""
        if entry.get("type") != "blob" or not name.endswith(".csv"):
            continue
        text = gateway.file_text(path, name, branch) or ""
        read = read_csv(text, name, today)
        found.rows.extend(read.rows)
        found.skipped.extend(read.skipped)
        found.texts[name] = text
        # Rows after today, only to know whose history must not be written this run.
        for row in read_csv(text, name, date.max).rows:
            if row.day > today:
                found.later[row.account] = max(row.day, found.later.get(row.account, row.day))
    return found


def plan_history(
    plan: Plan,
    history: History,
    rows: Iterable[HistoryRow],
    today: date,
    shard: tuple[int, int] | None,
) -> None:
    """One commit writing ``rows`` (already only the changes) into this run's file: a
    row of a (date, account) the file has replaces it, the others are appended. An
    account with a row dated after ``today`` (a run dated in the past, a rehearsal with a
    future date) is not written, and said so; so are the lines skipped reading."""
    for problem in history.skipped:
        plan.notes.append(f"history: skipped {problem} (fix or remove the line)")
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
    name = file_for(shard)
    existing = history.texts.get(name)
    content = merged_text(existing, rows)
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
    plan.add(
        "commit-history",
        f"project {history.project} {name}",
        f"append {len(rows)} changed account(s) of {today.isoformat()}",
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
