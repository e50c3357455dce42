"""Portfolio history rules (SPEC 5 Portfolio view): changes only, since-dates, trends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gl_csm.domain.history import (
    HistoryError,
    HistoryRow,
    by_account,
    changes,
    health_since,
    latest,
    parse_csv,
    score_trend,
    to_csv,
    trend_words,
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
