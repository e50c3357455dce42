"""Portfolio history rules (SPEC 5 Portfolio view): changes only, since-dates, trends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gl_csm.domain.history import (
    COLUMNS,
    HistoryError,
    HistoryRow,
    by_account,
    change_words,
    changes,
    health_since,
    latest,
    measure_changes,
    measure_value,
    measures_before,
    merged_text,
    parse_csv,
    read_csv,
    row_of,
    score_trend,
    to_csv,
    trend_words,
    usage_not_risen,
    weekly_health,
    worsened,
)

D0 = date(2026, 10, 1)


def row(days: int, health: str | None = "green", score: int | None = 80, account: str = "a"):
    return HistoryRow(D0 + timedelta(days=days), account, health, score, 2, "adopting")


def test_changes_only_new_or_different_accounts() -> None:
    previous = latest([row(0), row(0, account="b"), row(3, "red", 40, "b")])
    today = [row(9), row(9, "red", 40, "b"), row(9, account="c"), row(9, "yellow", 60, "d")]
    assert [r.account for r in changes(previous, today)] == ["c", "d"]
    moved = [row(9, score=81)]
    assert changes(previous, moved) == moved


def test_health_since_is_the_start_of_the_current_streak() -> None:
    rows = [row(0), row(5, "red", 40), row(8, "red", 35), row(20, "red", 30)]
    assert health_since(rows) == D0 + timedelta(days=5)
    assert health_since([row(0)]) == D0
    assert health_since([]) is None


def test_score_trend_over_30_days_and_younger_history() -> None:
    rows = [row(0, score=41), row(20, score=50), row(45, score=63)]
    today = D0 + timedelta(days=50)  # window starts on day 20: score 50 then
    trend = score_trend(rows, today)
    assert trend is not None and (trend.before, trend.now, trend.days) == (50, 63, 30)
    assert trend_words(trend) == "score 50 → 63 in 30 days"
    young = score_trend(rows[:2], D0 + timedelta(days=25))
    assert trend_words(young) == "score 41 → 50 since 2026-10-01"
    assert trend_words(score_trend([row(0), row(40, "red", 80)], D0 + timedelta(days=45))) is None


def test_worsened_and_weekly_counts() -> None:
    assert worsened("green", "yellow") and worsened("yellow", "red")
    assert not worsened("red", "green") and not worsened(None, "red")
    assert not worsened("unknown", "red")
    grouped = by_account([row(0), row(10, "red", account="b"), row(0, account="b")])
    weeks = weekly_health(grouped, D0 + timedelta(days=14), weeks=3)
    assert [w[1]["red"] for w in weeks] == [0, 0, 1]
    assert [w[1]["green"] for w in weeks] == [2, 2, 1]


def test_csv_round_trip_and_errors() -> None:
    rows = [row(0), HistoryRow(D0, "pre", None, None, None, "pre-sales")]
    text = to_csv(rows, header=True)
    assert text.splitlines()[0] == "date,account,health,score,priority,lifecycle,measures"
    assert parse_csv(text, "f.csv") == rows
    with pytest.raises(HistoryError, match="f.csv line 4: expected 7 fields"):
        parse_csv(text + "2026-10-01,x\n", "f.csv")
    with pytest.raises(HistoryError, match="line 1"):
        parse_csv("not-a-date,a,green,1,2,adopting\n", "f.csv")


def m(days: int, account: str = "a", **values: str) -> HistoryRow:
    return HistoryRow(
        D0 + timedelta(days=days), account, "green", 80, 2, "adopting", tuple(values.items())
    )


@pytest.mark.parametrize(
    ("then", "now", "written"),
    [
        ({"ci": "0.2", "scm": "0.5"}, {"ci": "0.2", "scm": "0.5"}, None),  # nothing moved
        ({"ci": "0.2", "scm": "0.5"}, {"ci": "0.1", "scm": "0.5"}, (("ci", "0.1"),)),
        ({"ci": "0.2"}, {"ci": "0.2", "sentiment": "red"}, (("sentiment", "red"),)),
        ({"ci": "0.2"}, {"ci": ""}, (("ci", ""),)),  # data gone is a change too
        ({}, {"ci": ""}, None),  # no data before and now: nothing to write
    ],
)
def test_changes_write_only_the_measures_that_moved(then, now, written) -> None:
    previous = latest([m(0)])
    out = changes(previous, [m(9, **now)], {"a": then})
    assert (out[0].measures if out else None) == written


def test_measures_before_is_the_last_value_of_each_before_the_day() -> None:
    rows = [m(0, ci="0.2", scm="0.5"), m(5, ci="0.1"), m(9, ci="0.3")]
    assert measures_before(rows, D0 + timedelta(days=9)) == {"a": {"ci": "0.1", "scm": "0.5"}}


@pytest.mark.parametrize(
    ("value", "kept"),
    [(0.21052, "0.21"), ("0.6", "0.6"), (90, "90"), ("green", "green"), (None, ""), ("-", "")],
)
def test_measure_values_are_kept_rounded(value, kept) -> None:
    assert measure_value(value) == kept


def test_a_day_count_measure_is_not_kept() -> None:
    r = row_of(
        D0,
        "a",
        {"measures": [{"name": "ci", "value": "0.4"}, {"name": "meeting_cadence", "value": "13"}]},
    )
    assert r.measures == (("ci", "0.4"),)


TODAY = D0 + timedelta(days=120)


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        # ci 0.21 on D0 is in force 90 days ago (D0+30): down to 0.09.
        (
            [m(0, ci="0.21"), m(100, ci="0.09")],
            ["CI use 9% of users, down from 21% of users on 2026-10-01"],
        ),
        (
            [m(0, ci="0.09"), m(100, ci="0.21")],
            ["CI use 21% of users, up from 9% of users on 2026-10-01"],
        ),
        # moved and back: no change over the window
        ([m(0, ci="0.21"), m(60, ci="0.09"), m(100, ci="0.21")], []),
        # the history is younger than the window: nothing to compare with
        ([m(40, ci="0.21"), m(100, ci="0.09")], []),
        # a color says "was"
        (
            [m(0, sentiment="green"), m(100, sentiment="red")],
            ["CSM sentiment red, was green on 2026-10-01"],
        ),
        # no data at one end: not a move
        ([m(0, ci=""), m(100, ci="0.09")], []),
    ],
)
def test_measure_changes_over_90_days(rows, words) -> None:
    moved = measure_changes(rows, TODAY, ("ci", "scm", "sentiment"), 90)
    assert [change_words(c) for c in moved] == words


@pytest.mark.parametrize(
    ("rows", "flat"),
    [
        ([m(0, ci="0.21", scm="0.5"), m(100, ci="0.09")], ["ci", "scm"]),  # fell, stayed
        ([m(0, ci="0.21", scm="0.5")], ["ci", "scm"]),  # nothing moved for 120 days
        ([m(0, ci="0.21", scm="0.5"), m(100, scm="0.6")], None),  # SCM rose
        ([m(40, ci="0.21", scm="0.5")], None),  # younger than the window
        ([m(0, ci="", scm="")], None),  # no data: cannot say
    ],
)
def test_usage_not_risen_in_90_days(rows, flat) -> None:
    found = usage_not_risen(rows, TODAY, ("ci", "scm"), 90)
    assert (None if found is None else [c.key for c in found]) == flat


def test_old_six_field_lines_still_read_and_the_new_column_round_trips() -> None:
    old = "date,account,health,score,priority,lifecycle\n2026-10-01,a,green,80,2,adopting\n"
    read = read_csv(old, "f.csv", D0)
    assert read.rows == [row(0)] and read.skipped == []
    rows = [m(1, ci="0.2", sentiment="green")]
    text = merged_text(old, rows)
    assert text.splitlines()[0] == ",".join(COLUMNS)  # the header names the new column
    assert read_csv(text, "f.csv", D0 + timedelta(days=1)).rows == [row(0), *rows]
    assert parse_csv(text, "f.csv") == [row(0), *rows]


def test_a_broken_measures_field_is_skipped_and_named() -> None:
    text = '2026-10-01,a,green,80,2,adopting,"{not json"\n'
    read = read_csv(text, "f.csv", D0)
    assert read.rows == [] and "f.csv line 1: measures" in read.skipped[0]
