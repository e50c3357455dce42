"""Portfolio history: what changed, when (SPEC 5 Portfolio view). Pure: no I/O, no clock.

The history is a list of rows ``date, account, health, score, priority, lifecycle,
measures``; a row is written only when the account's state differs from its previous
row or one of its measures (SPEC 4, the CSM's sentiment included) has another value, so
an account that stays the same costs nothing, however many days pass. The current
state of an account on any date is its last row on or before that date.

The ``measures`` column holds only the measures whose value changed, as a JSON object
of measure key (the registry's, gl_csm/domain/measures/) to value (``""`` for no data):
a measure's value on a date is the last value recorded on or before it. Files written
before the column existed (six fields a line) still read; their rows record no measure.

Scores are kept as whole numbers: a 0.1 move of a weighted score is noise, and whole
numbers keep the file small and the trend readable ("score 41 -> 63 in 30 days").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache

from gl_csm.domain.measures.base import as_number
from gl_csm.domain.measures.registry import definition, measure_name, value_words
from gl_csm.domain.rules import DEFAULT_RULES

#: The columns of files written before measures were kept (still read).
OLD_COLUMNS = ("date", "account", "health", "score", "priority", "lifecycle")
COLUMNS = (*OLD_COLUMNS, "measures")
HEALTHS = ("red", "yellow", "green", "unknown")
#: The trend window of the card ("score 41 -> 63 in 30 days"): `rules.history.trend_days`.
TREND_DAYS = DEFAULT_RULES.history.trend_days
#: The window each measure is compared over: `rules.history.measure_days`.
MEASURE_DAYS = DEFAULT_RULES.history.measure_days


@dataclass(frozen=True)
class HistoryRow:
    day: date
    account: str
    health: str | None  # red | yellow | green | unknown; None before health applies
    score: int | None
    priority: int | None
    lifecycle: str | None
    #: (measure key, value as text; "" for no data): every measure of the account in a
    #: row of the run, only the changed ones in a row of the history.
    measures: tuple[tuple[str, str], ...] = ()

    @property
    def state(self) -> tuple[str | None, int | None, int | None, str | None]:
        return (self.health, self.score, self.priority, self.lifecycle)


class HistoryError(ValueError):
    """A history file that cannot be read; the message names the file and line."""


def measure_value(value: object) -> str:
    """A measure's value as the history keeps it: a number rounded to two decimals (a
    0.001 move of a share is noise and would write a row a day), "" for no data."""
    if type(value) is str:
        return _measure_text(value)
    return _measure_text("" if value is None else str(value))


# A pure function of the text: each run converts the same few thousand readings (every
# measure of every account), so a text is converted once per process.
@lru_cache(maxsize=4096)
def _measure_text(value: str) -> str:
    text = value.strip()
    if text in ("-", "None"):
        return ""
    number = as_number(text) if text else None
    if number is None or number.is_integer() and "." not in text:
        return text
    return f"{round(number, 2):g}"


def _counts_days(key: str) -> bool:
    found = definition(key)
    return found is not None and found.counts_days


def row_of(day: date, account: str, values: Mapping[str, object]) -> HistoryRow:
    """A row from the triage result of one account (keys health, score, priority,
    lifecycle and measures as in `gl-csm triage --format json`). A measure whose value is
    a day count is left out: it moves every day by itself."""
    listed = values.get("measures")
    measures = tuple(
        (str(m["name"]), measure_value(m.get("value")))
        for m in (listed if isinstance(listed, list) else ())
        # type() first: the ABC check is the slow path, and the rows are plain dicts.
        if (type(m) is dict or isinstance(m, Mapping))
        and m.get("name")
        and not _counts_days(str(m["name"]))
    )
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
        measures,
    )


def latest(rows: Iterable[HistoryRow]) -> dict[str, HistoryRow]:
    """Each account's last row (rows in file order; a later row of one date wins)."""
    out: dict[str, HistoryRow] = {}
    for row in sorted(rows, key=lambda r: r.day):  # stable: file order kept within a day
        out[row.account] = row
    return out


def changes(
    previous: Mapping[str, HistoryRow],
    current: Iterable[HistoryRow],
    measures_then: Mapping[str, Mapping[str, str]] | None = None,
) -> list[HistoryRow]:
    """The rows to append: accounts seen for the first time, whose state changed or one
    of whose measures has another value than in ``measures_then`` (the values before the
    run's day, :func:`measures_before`); each row keeps only the measures that changed.

    The measures are compared with the values before the day, not with a row of the day
    itself: a second run of the day replaces that row (:func:`merged_text`), so the row
    must still hold what changed that day."""
    out = []
    for row in current:
        known = (measures_then or {}).get(row.account, {})
        moved = tuple((k, v) for k, v in row.measures if known.get(k, "") != v)
        before = previous.get(row.account)
        if before is None or before.state != row.state or moved:
            out.append(replace(row, measures=moved))
    return sorted(out, key=lambda r: r.account)


def measures_before(rows: Iterable[HistoryRow], day: date) -> dict[str, dict[str, str]]:
    """Each account's measure values recorded before ``day`` (the last value of each)."""
    out: dict[str, dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: r.day):
        if row.day < day:
            out.setdefault(row.account, {}).update(row.measures)
    return out


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


@dataclass(frozen=True)
class MeasureChange:
    """A measure's value at the start of the window against its value today."""

    key: str
    before: str
    now: str
    recorded: date  # the day the history recorded ``before``

    @property
    def direction(self) -> str | None:
        """ "up" or "down" for numbers, None for values that are not (a color)."""
        a, b = as_number(self.before), as_number(self.now)
        if a is None or b is None or a == b:
            return None
        return "up" if b > a else "down"


def measure_on(rows: Sequence[HistoryRow], key: str, day: date) -> tuple[str, date] | None:
    """The value of measure ``key`` in force on ``day`` and the day it was recorded
    (rows of one account, oldest first); None when the history has none by then."""
    found = None
    for row in rows:
        if row.day > day:
            break
        for k, value in row.measures:
            if k == key:
                found = (value, row.day)
    return found


def _measures_on(rows: Sequence[HistoryRow], day: date) -> dict[str, tuple[str, date]]:
    """:func:`measure_on` of every measure the rows hold."""
    found: dict[str, tuple[str, date]] = {}
    for row in rows:
        if row.day > day:
            break
        for k, value in row.measures:
            found[k] = (value, row.day)
    return found


def measures_over(
    rows: Sequence[HistoryRow], today: date, keys: Sequence[str], days: int = MEASURE_DAYS
) -> list[MeasureChange]:
    """Each measure of ``keys`` (in their order) with its value ``days`` ago and today,
    moved or not; a measure the history did not know yet ``days`` ago is left out (no
    window to compare over), and so is one that has no data at either end."""
    start = today - timedelta(days=days)
    # measure_on for every key at once: the rows are walked twice per account, not
    # twice per measure (a triage run asks this of every account).
    values_then, values_now = _measures_on(rows, start), _measures_on(rows, today)
    out = []
    for key in keys:
        then, now = values_then.get(key), values_now.get(key)
        if then is None or now is None or "" in (then[0], now[0]):
            continue
        out.append(MeasureChange(key, then[0], now[0], then[1]))
    return out


def measure_changes(
    rows: Sequence[HistoryRow], today: date, keys: Sequence[str], days: int = MEASURE_DAYS
) -> list[MeasureChange]:
    """The measures whose value today differs from their value ``days`` ago."""
    return [c for c in measures_over(rows, today, keys, days) if c.before != c.now]


def change_words(change: MeasureChange) -> str:
    """ "CI use 9% of users, down from 21% on 2026-08-25": the measure's name and its
    values with their units (the registry's words), dated, so the card stays the same
    from one day to the next."""
    name = measure_name(change.key)
    now = value_words(change.key, change.now)
    before = value_words(change.key, change.before)
    moved = f"{change.direction} from" if change.direction else "was"
    return f"{name} {now}, {moved} {before} on {change.recorded.isoformat()}"


def usage_not_risen(
    rows: Sequence[HistoryRow], today: date, keys: Sequence[str], days: int = MEASURE_DAYS
) -> list[MeasureChange] | None:
    """The measures ``keys`` (the product usage group) compared over ``days`` when none of
    them is higher today than then; None when one rose, or when the history cannot say
    (no number for any of them at both ends: a history younger than the window)."""
    compared = [
        c
        for c in measures_over(rows, today, keys, days)
        if as_number(c.before) is not None and as_number(c.now) is not None
    ]
    if not compared or any(c.direction == "up" for c in compared):
        return None
    return compared


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
                json.dumps(dict(r.measures), separators=(",", ":")) if r.measures else "",
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


def _measures(text: str) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"measures {text!r} is not a JSON object") from None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise ValueError(f"measures {text!r} is not a JSON object of texts")
    return tuple((str(k), v) for k, v in found.items())


def _row(fields: list[str]) -> HistoryRow:
    day, account, health, score, priority, lifecycle = fields[: len(OLD_COLUMNS)]
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
        _measures(fields[len(OLD_COLUMNS)]) if len(fields) > len(OLD_COLUMNS) else (),
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
        if not fields or (number == 1 and tuple(fields) in (COLUMNS, OLD_COLUMNS)):
            continue
        if len(fields) not in (len(COLUMNS), len(OLD_COLUMNS)):
            skipped.append(
                f"{source} line {number}: expected {len(COLUMNS)} fields "
                f"({', '.join(COLUMNS)}) or {len(OLD_COLUMNS)} (without measures), "
                f"got {len(fields)}"
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
    if lines and lines[0] == ",".join(OLD_COLUMNS):
        lines[0] = ",".join(COLUMNS)  # the file now has the measures column
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
        if not fields or (number == 1 and tuple(fields) in (COLUMNS, OLD_COLUMNS)):
            continue
        if len(fields) not in (len(COLUMNS), len(OLD_COLUMNS)):
            raise HistoryError(
                f"{source} line {number}: expected {len(COLUMNS)} fields "
                f"({', '.join(COLUMNS)}) or {len(OLD_COLUMNS)} (without measures), "
                f"got {len(fields)}"
            )
        try:
            day, account, health, score, priority, lifecycle = fields[: len(OLD_COLUMNS)]
            out.append(
                HistoryRow(
                    date.fromisoformat(day),
                    account,
                    health or None,
                    int(score) if score else None,
                    int(priority) if priority else None,
                    lifecycle or None,
                    _measures(fields[-1]) if len(fields) == len(COLUMNS) else (),
                )
            )
        except ValueError as exc:
            raise HistoryError(f"{source} line {number}: {exc}") from None
    return out
