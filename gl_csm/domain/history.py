"""Portfolio history: what changed, when (SPEC 5 Portfolio view). Pure: no I/O, no clock.

The history is a list of rows ``date, account, health, score, priority, lifecycle``;
a row is written only when one of these differs from the account's previous row, so
an account that stays the same costs nothing, however many days pass. The current
state of an account on any date is its last row on or before that date.

Scores are kept as whole numbers: a 0.1 move of a weighted score is noise, and whole
numbers keep the file small and the trend readable ("score 41 -> 63 in 30 days").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

COLUMNS = ("date", "account", "health", "score", "priority", "lifecycle")
HEALTHS = ("red", "yellow", "green", "unknown")
#: The trend window of the card ("score 41 -> 63 in 30 days").
TREND_DAYS = 30


@dataclass(frozen=True)
class HistoryRow:
    day: date
    account: str
    health: str | None  # red | yellow | green | unknown; None before health applies
    score: int | None
    priority: int | None
    lifecycle: str | None

    @property
    def state(self) -> tuple[str | None, int | None, int | None, str | None]:
        return (self.health, self.score, self.priority, self.lifecycle)


class HistoryError(ValueError):
    """A history file that cannot be read; the message names the file and line."""


def row_of(day: date, account: str, values: Mapping[str, object]) -> HistoryRow:
    """A row from the triage result of one account (keys health, score, priority,
    lifecycle as in `gl-csm triage --format json`)."""
    score = values.get("score")
    priority = values.get("priority")
    health = values.get("health")
    lifecycle = values.get("lifecycle")
    return HistoryRow(
        day,
        account,
        health if isinstance(health, str) else None,
        round(score) if isinstance(score, int | float) else None,
        priority if isinstance(priority, int) else None,
        lifecycle if isinstance(lifecycle, str) else None,
    )


def latest(rows: Iterable[HistoryRow]) -> dict[str, HistoryRow]:
    """Each account's last row (rows in file order; a later row of one date wins)."""
    out: dict[str, HistoryRow] = {}
    for row in sorted(rows, key=lambda r: r.day):  # stable: file order kept within a day
        out[row.account] = row
    return out


def changes(previous: Mapping[str, HistoryRow], current: Iterable[HistoryRow]) -> list[HistoryRow]:
    """The rows to append: accounts seen for the first time or whose state changed."""
    out = []
    for row in current:
        before = previous.get(row.account)
        if before is None or before.state != row.state:
            out.append(row)
    return sorted(out, key=lambda r: r.account)


def by_account(rows: Iterable[HistoryRow]) -> dict[str, list[HistoryRow]]:
    """Rows grouped by account, oldest first."""
    out: dict[str, list[HistoryRow]] = {}
    for row in sorted(rows, key=lambda r: r.day):
        out.setdefault(row.account, []).append(row)
    return out


def state_on(rows: Sequence[HistoryRow], day: date) -> HistoryRow | None:
    """The account's row in force on ``day`` (rows of one account, oldest first)."""
    found = None
    for row in rows:
        if row.day > day:
            break
        found = row
    return found


def health_since(rows: Sequence[HistoryRow]) -> date | None:
    """The first day of the current health streak (rows of one account, oldest first)."""
    if not rows:
        return None
    current = rows[-1].health
    since = rows[-1].day
    for row in reversed(rows):
        if row.health != current:
            break
        since = row.day
    return since


@dataclass(frozen=True)
class Trend:
    before: int
    now: int
    since: date  # the start of the window, or the first day the history has
    days: int  # the window length in days (TREND_DAYS unless the history is younger)
    full_window: bool  # False when the history is younger than the window

    @property
    def delta(self) -> int:
        return self.now - self.before


def score_trend(rows: Sequence[HistoryRow], today: date, days: int = TREND_DAYS) -> Trend | None:
    """The score ``days`` ago (or at the first row, when the history is younger) against
    the latest; None when either is unknown."""
    if not rows or rows[-1].score is None:
        return None
    start = today - timedelta(days=days)
    then = state_on(rows, start)
    full = then is not None
    if then is None:
        then = rows[0]
        start = then.day
    if then.score is None:
        return None
    return Trend(then.score, rows[-1].score, start, (today - start).days, full)


def trend_words(trend: Trend | None) -> str | None:
    """The card's trend: "score 41 → 63 in 30 days", or "... since 2026-11-10" when the
    history is younger than the window: words that stay the same from one day to the
    next, so the card is not rewritten daily."""
    if trend is None or trend.days <= 0 or trend.delta == 0:
        return None  # an unchanged score says nothing (and costs no card rewrite)
    span = f"in {trend.days} days" if trend.full_window else f"since {trend.since.isoformat()}"
    return f"score {trend.before} → {trend.now} {span}"


def worsened(before: str | None, after: str | None) -> bool:
    """True when health went down (green > yellow > red; unknown/None never compared)."""
    rank = {"green": 2, "yellow": 1, "red": 0}
    return before in rank and after in rank and rank[after] < rank[before]  # type: ignore[index]


def weekly_health(
    grouped: Mapping[str, Sequence[HistoryRow]], today: date, weeks: int = 12
) -> list[tuple[date, dict[str, int]]]:
    """Accounts per health at the end of each of the last ``weeks`` weeks (today last)."""
    out = []
    for back in range(weeks - 1, -1, -1):
        day = today - timedelta(days=7 * back)
        counts = dict.fromkeys(HEALTHS, 0)
        for rows in grouped.values():
            row = state_on(rows, day)
            if row is None or row.lifecycle in ("churned",):
                continue
            if row.health in counts:
                counts[row.health] += 1
        out.append((day, counts))
    return out


# ---------------------------------------------------------------- CSV text


def to_csv(rows: Iterable[HistoryRow], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.day.isoformat(),
                r.account,
                r.health or "",
                "" if r.score is None else r.score,
                "" if r.priority is None else r.priority,
                r.lifecycle or "",
            ]
        )
    return buffer.getvalue()


class GroupedHistory(dict[str, list[HistoryRow]]):
    """Rows by account (oldest first), and the lines that were skipped reading them:
    what the report names so a person can fix the file."""

    skipped: tuple[str, ...] = ()


def group(rows: Iterable[HistoryRow], skipped: Sequence[str] = ()) -> GroupedHistory:
    out = GroupedHistory(by_account(rows))
    out.skipped = tuple(skipped)
    return out


@dataclass(frozen=True)
class ReadHistory:
    """A history file read leniently: its rows, and why each skipped line was skipped."""

    rows: list[HistoryRow]
    skipped: list[str]


def _row(fields: list[str]) -> HistoryRow:
    day, account, health, score, priority, lifecycle = fields
    if health and health not in HEALTHS:
        raise ValueError(f"health {health!r} is not one of {', '.join(HEALTHS)}")
    if not account:
        raise ValueError("no account")
    return HistoryRow(
        date.fromisoformat(day),
        account,
        health or None,
        int(score) if score else None,
        int(priority) if priority else None,
        lifecycle or None,
    )


def read_csv(text: str, source: str, today: date) -> ReadHistory:
    """Rows of a history file, leniently: one line a person broke, or a row dated after
    ``today`` (a rehearsal with a future date, a typo in the year), is skipped and named,
    so it never stops a run nor makes every later run write again."""
    rows: list[HistoryRow] = []
    skipped: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            fields = next(csv.reader([line]), [])
        except csv.Error as exc:
            skipped.append(f"{source} line {number}: {exc}")
            continue
        if not fields or (number == 1 and tuple(fields) == COLUMNS):
            continue
        if len(fields) != len(COLUMNS):
            skipped.append(
                f"{source} line {number}: expected {len(COLUMNS)} fields "
                f"({', '.join(COLUMNS)}), got {len(fields)}"
            )
            continue
        try:
            row = _row(fields)
        except ValueError as exc:
            skipped.append(f"{source} line {number}: {exc}")
            continue
        if row.day > today:
            skipped.append(
                f"{source} line {number}: dated {row.day.isoformat()}, after today "
                f"({today.isoformat()})"
            )
            continue
        rows.append(row)
    return ReadHistory(rows, skipped)


def merged_text(existing: str | None, rows: Sequence[HistoryRow]) -> str:
    """The file with ``rows`` written in: a row whose (date, account) the file already
    has replaces that line, so a repeated day is one row; the others are appended, each
    on a line of its own even when the file does not end with a newline."""
    if existing is None or not existing.strip():
        return to_csv(rows, header=True)
    keyed = {(r.day.isoformat(), r.account): r for r in rows}
    lines = existing.splitlines()
    for index, line in enumerate(lines):
        fields = line.split(",", 2)
        key = (fields[0], fields[1]) if len(fields) >= 2 else None
        if key in keyed:
            lines[index] = to_csv([keyed.pop(key)], header=False).rstrip("\n")
    text = "\n".join(lines) + "\n"
    return text + to_csv([r for r in rows if (r.day.isoformat(), r.account) in keyed], header=False)


def parse_csv(text: str, source: str) -> list[HistoryRow]:
    """Rows of a history file; a malformed line is an error naming file and line."""
    reader = csv.reader(io.StringIO(text))
    out: list[HistoryRow] = []
    for number, fields in enumerate(reader, start=1):
        if not fields or (number == 1 and tuple(fields) == COLUMNS):
            continue
        if len(fields) != len(COLUMNS):
            raise HistoryError(
                f"{source} line {number}: expected {len(COLUMNS)} fields "
                f"({', '.join(COLUMNS)}), got {len(fields)}"
            )
        day, account, health, score, priority, lifecycle = fields
        try:
            out.append(
                HistoryRow(
                    date.fromisoformat(day),
                    account,
                    health or None,
                    int(score) if score else None,
                    int(priority) if priority else None,
                    lifecycle or None,
                )
            )
        except ValueError as exc:
            raise HistoryError(f"{source} line {number}: {exc}") from None
    return out
