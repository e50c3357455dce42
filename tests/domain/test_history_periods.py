"""One history file a year (gl_csm/domain/history_periods.py): which files a run reads,
what a new year's file carries from before, and how rows read twice become one."""

from __future__ import annotations

from datetime import date, timedelta

from gl_csm.domain.history import (
    HistoryRow,
    health_since,
    measure_on,
    score_trend,
    state_on,
)
from gl_csm.domain.history_periods import (
    LAST_ROWS_CARRIED,
    carried,
    complete,
    file_for,
    files_to_read,
    merge_rows,
    parse_name,
    year_opening,
)

OLD = "history/portfolio.csv"
Y26, Y27 = file_for(None, 2026), file_for(None, 2027)


def _row(day: str, health: str = "green", score: int = 80, **measures: str) -> HistoryRow:
    return HistoryRow(
        date.fromisoformat(day), "acme", health, score, 2, "adopting", tuple(measures.items())
    )


def test_names() -> None:
    assert Y27 == "history/portfolio-2027.csv"
    assert file_for((2, 4), 2027) == "history/portfolio-2027-shard-2-of-4.csv"
    assert parse_name("history/portfolio-2027-shard-2-of-4.csv").shard == (2, 4)
    assert parse_name(OLD).year is None
    assert parse_name("history/portfolio-shard-1-of-2.csv").year is None
    assert parse_name("history/notes.csv").year is None


def test_a_year_is_complete_with_its_whole_file_or_every_shard_of_one_layout() -> None:
    of = lambda *paths: [parse_name(p) for p in paths]  # noqa: E731
    assert complete(of(Y27))
    assert complete(of(file_for((1, 2), 2027), file_for((2, 2), 2027)))
    assert not complete(of(file_for((1, 2), 2027), file_for((2, 3), 2027)))
    assert not complete(of())


def test_the_run_reads_its_year_only_once_the_year_covers_its_windows() -> None:
    paths = [OLD, Y26, Y27, "history/portfolio-2025.csv"]
    today = date(2027, 6, 1)
    assert files_to_read(paths, today, today - timedelta(days=90)).read == (Y27,)
    # 1 January: the year's file copied the last 92 days of the year before.
    jan = date(2027, 1, 3)
    assert files_to_read(paths, jan, jan - timedelta(days=90)).read == (Y27,)
    # A window longer than that, or a report whose previous one is older, reads back.
    assert files_to_read(paths, jan, jan - timedelta(days=180)).read == (Y27, Y26)
    # Before the year's first write: the year before's file.
    assert files_to_read([OLD, Y26], jan, jan - timedelta(days=90)).read == (Y26,)
    # Only old single files: read them all (the upgrade).
    assert files_to_read([OLD, "history/x.csv"], jan, jan).read == (OLD, "history/x.csv")
    # A year with one shard's file of two: incomplete, the year before is read too.
    half = [Y26, file_for((1, 2), 2027)]
    assert files_to_read(half, today, today).read == (file_for((1, 2), 2027), Y26)


def test_files_of_a_later_year_are_not_read_but_named() -> None:
    found = files_to_read([Y26, Y27], date(2026, 12, 1), date(2026, 9, 1))
    assert found.read == (Y26,) and found.later == (Y27,)


def test_the_state_carried_answers_every_question_from_its_day_on() -> None:
    rows = [
        _row("2024-01-10", "green", 80, ci="0.4", scm="0.5"),
        _row("2024-05-01", "red", 40),
        _row("2024-06-01", "green", 70, ci="0.3"),
        *[_row(f"2025-0{m}-01", "red", 40 + m) for m in range(1, 9)],
        _row("2025-09-15", "red", 35, ci="0.2"),
    ]
    cut = date(2025, 10, 1)
    kept = carried(rows, cut)
    assert len(kept) < len(rows)
    assert health_since(kept) == health_since(rows) == date(2025, 1, 1)
    for day in (cut, cut + timedelta(days=200)):
        assert state_on(kept, day) == state_on(rows, day)
        for key in ("ci", "scm"):
            assert measure_on(kept, key, day) == measure_on(rows, key, day)
        assert score_trend(kept, day, 30) == score_trend(rows, day, 30)
    # The last rows the EBR brief lists are all there.
    assert [r.day for r in kept][-LAST_ROWS_CARRIED:] == [r.day for r in rows][-LAST_ROWS_CARRIED:]
    # SCM's only value was recorded on the first row: carried with that row's date, alone.
    assert kept[0] == _row("2024-01-10", "green", 80, scm="0.5")


def test_a_new_year_copies_the_last_days_and_the_old_files_rows_of_the_year() -> None:
    history = [_row("2025-01-02", "green", 80), _row("2026-11-20", "yellow", 60)]
    old_rows = [_row("2027-02-01", "red", 30)]
    other = HistoryRow(date(2026, 12, 1), "globex", "green", 90, 3, "adopting")
    opening = year_opening([*history, other, *old_rows], old_rows, 2027, lambda a: a == "acme")
    assert opening == [*history, old_rows[0]]


def test_rows_read_twice_are_one_holding_the_measures_of_both() -> None:
    original = _row("2026-11-20", "yellow", 60, ci="0.2", scm="0.5")
    carried_copy = _row("2026-11-20", "yellow", 60, scm="0.5")
    other_state = _row("2026-11-20", "red", 30)
    assert merge_rows([original, carried_copy, other_state]) == [original, other_state]
