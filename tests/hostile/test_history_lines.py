"""One line of ``history/*.csv`` never stops a run, and the history never doubles.

A person edits the file in GitLab's web editor (which may save it without a final
newline) or adds a malformed line; a rehearsal runs with a future ``--today``. The read
is lenient (the line is skipped and named in the report), the bot's rows always start on
a line of their own, rows dated after the run's day are left out, a run dated before an
account's last row writes nothing for it and says so, and a repeated day is one row."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from gl_csm.domain.history import parse_csv
from gl_csm.markers import token
from gl_csm.services.triage.history import file_for
from gl_csm.services.triage.report import ReportInput, build_report
from tests.services.triage_world import ACCOUNTS, World

DAY = date(2026, 11, 23)
NAME = file_for(None, DAY.year)


def _world(tmp_path: Path) -> World:
    world = World(tmp_path)
    world.add("acme", "Acme")
    world.add("globex", "Globex")
    outcome, _, _ = world.run(DAY)
    assert outcome.exit_code == 0
    return world


def _text(world: World) -> str:
    text = world.person().file_text(ACCOUNTS, NAME, "main")
    assert text is not None
    return text


def _edit(world: World, text: str) -> None:
    """A person saves the file in GitLab (no marker of the bot)."""
    world.person().commit(
        ACCOUNTS,
        "main",
        "edit history",
        [{"action": "update", "file_path": NAME, "content": text}],
        token("person-edit", str(len(text))),
    )


def _history_commits(outcome: object) -> int:
    return sum(1 for c in outcome.changes if c.action == "commit-history")  # type: ignore[attr-defined]


def test_a_malformed_line_is_skipped_and_named_not_fatal(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _edit(world, _text(world) + "2026-11-2O,acme,purple\nthis is not, a row\n")
    world.add("initech", "Initech")  # a change to record the next day
    outcome, run, _ = world.run(DAY + timedelta(days=1))
    assert outcome.exit_code == 0, outcome.failures
    assert not any(r.get("failed") for r in run.accounts.values())
    assert any("line 4" in n and "skipped" in n for n in outcome.notes)
    text = _text(world)
    assert "initech" in text.splitlines()[-1]
    report = build_report(world.gateway, world.settings, ReportInput(), DAY + timedelta(days=1))
    assert "## History lines skipped" in report
    assert f"{NAME} line 4: expected 7 fields" in report and f"{NAME} line 5" in report


def test_a_file_saved_without_a_final_newline_gets_rows_on_their_own_line(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    _edit(world, _text(world).rstrip("\n"))
    world.add("initech", "Initech")
    outcome, _, _ = world.run(DAY + timedelta(days=1))
    assert outcome.exit_code == 0, outcome.failures
    rows = parse_csv(_text(world), NAME)  # strict: every line is a whole row
    assert [r.account for r in rows][-1] == "initech"


def test_a_far_future_row_is_ignored_and_commits_nothing_daily(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _edit(world, _text(world) + "2099-01-01,acme,red,10,1,adopting\n")
    commits = []
    for n in range(1, 4):
        outcome, _, _ = world.run(DAY + timedelta(days=n))
        assert outcome.exit_code == 0, outcome.failures
        commits.append(_history_commits(outcome))
    assert commits == [0, 0, 0]
    report = build_report(world.gateway, world.settings, ReportInput(), DAY + timedelta(days=3))
    assert "dated 2099-01-01, after today (2026-11-26)" in report


def test_a_run_dated_before_the_last_row_writes_nothing_and_says_so(tmp_path: Path) -> None:
    world = _world(tmp_path)
    rehearsal = DAY + timedelta(days=30)
    world.add("initech", "Initech")
    outcome, _, _ = world.run(rehearsal)  # a dry rehearsal with a future --today
    assert _history_commits(outcome) == 1
    after_rehearsal = _text(world)
    back = DAY + timedelta(days=1)
    outcome, _, _ = world.run(back)
    assert _history_commits(outcome) == 0
    assert any("not written for 1 account(s) (initech)" in n for n in outcome.notes)
    assert any(f"rows up to {rehearsal.isoformat()}" in n for n in outcome.notes)
    _, _, again = world.run(back)
    assert again.writes == 0
    assert _text(world) == after_rehearsal


def test_a_repeated_day_is_one_row(tmp_path: Path) -> None:
    world = _world(tmp_path)
    before = parse_csv(_text(world), NAME)
    # The same day again, with acme's state changed: its row of the day is replaced.
    world.add("acme", "Acme", sentiment={"health": "yellow", "updated": DAY})
    outcome, _, _ = world.run(DAY)
    assert _history_commits(outcome) == 1
    rows = parse_csv(_text(world), NAME)
    keys = [(r.day, r.account) for r in rows]
    assert len(keys) == len(set(keys)) == len(before)
    acme = [r for r in rows if r.account == "acme"]
    assert acme != [r for r in before if r.account == "acme"]  # rewritten in place


def test_a_run_dated_in_a_year_before_the_newest_file_writes_nothing(tmp_path: Path) -> None:
    """A rehearsal dated in the next year started that year's file; a run back in this
    year would rewrite a past year's file (which the next year's carried state was taken
    from): it writes no history and says so, and the next year's file is left alone."""
    world = _world(tmp_path)
    world.add("initech", "Initech")
    outcome, _, _ = world.run(date(2027, 1, 5))
    assert _history_commits(outcome) == 1
    this_year = _text(world)
    world.add("hooli", "Hooli")
    outcome, _, _ = world.run(DAY + timedelta(days=1))
    assert _history_commits(outcome) == 0
    later = file_for(None, 2027)
    assert any(f"{later} is of a year after this run's day" in n for n in outcome.notes)
    assert _text(world) == this_year
