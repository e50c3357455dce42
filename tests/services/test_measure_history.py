"""Each measure's history (SPEC 5 Portfolio view): usage that moves over three months is
recorded as changes only, the card says how each measure moved over 90 days, and the
report lists the accounts whose product usage has not risen."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from gl_csm import markers
from gl_csm.domain.history import parse_csv
from gl_csm.services.triage.history import file_for
from gl_csm.services.triage.report import ReportInput, build_report
from tests.services.triage_world import ACCOUNTS, World, account_data

START = date(2026, 8, 25)
END = START + timedelta(days=90)  # 2026-11-23


def _data(name: str, day: date, ci: float, scm: float) -> dict:
    data = account_data(name)
    data["usage"] = {**data["usage"], "as_of": day, "ci": ci, "scm": scm}
    data["engagement"] = {**data["engagement"], "last_call": day - timedelta(days=5)}
    data["support"] = {**data["support"], "as_of": day}
    data["sentiment"] = {"health": "green", "updated": day}
    return data


def _three_months(tmp_path: Path) -> tuple[World, dict]:
    """Acme's CI use falls from 21% to 9% while Globex's SCM use rises; the fresh dates
    of each refresh change no measure's value."""
    world = World(tmp_path, today=START)
    steps = [(START, 0.21, 0.5), (START + timedelta(days=40), 0.15, 0.6), (END, 0.09, 0.7)]
    run = None
    for day, ci, scm in steps:
        world.write("acme", _data("Acme", day, ci, 0.8))
        world.write("globex", _data("Globex", day, 0.6, scm))
        outcome, run, _ = world.run(day)
        assert outcome.exit_code == 0, outcome.failures
    assert run is not None
    return world, run.accounts


def _card(world: World, slug: str) -> str:
    issues = world.issues(ACCOUNTS, state="all")
    return markers.index_by_marker(issues, "tracking")[slug]["description"]


def test_usage_moving_over_three_months_is_on_the_card(tmp_path: Path) -> None:
    world, _ = _three_months(tmp_path)
    card = _card(world, "acme")
    assert "Over 90 days:" in card
    assert "- CI use 9% of users, down from 21% of users on 2026-08-25." in card
    # SCM did not move at Acme: not on its card.
    assert "Source code" not in card.split("Over 90 days:")[1].split("- CSM sentiment")[0]
    globex = "- Source code management use 70% of users, up from 50% of users on 2026-08-25."
    assert globex in _card(world, "globex")


def test_only_the_measures_that_changed_are_written(tmp_path: Path) -> None:
    world, _ = _three_months(tmp_path)
    text = world.person().file_text(ACCOUNTS, file_for(None, END.year), "main") or ""
    rows = [r for r in parse_csv(text, "f") if r.account == "acme"]
    assert [r.day for r in rows] == [START, START + timedelta(days=40), END]
    assert rows[1].measures == (("ci", "0.15"),)  # SCM and the rest unchanged: not written
    assert ("sentiment", "green") in rows[0].measures  # the CSM's sentiment is kept
    # The day count of the meeting cadence moves every day by itself: never kept.
    assert all(k != "meeting_cadence" for r in rows for k, _ in r.measures)


def test_a_same_day_rerun_writes_no_history(tmp_path: Path) -> None:
    world, _ = _three_months(tmp_path)
    outcome, _, stats = world.run(END)
    assert not [c for c in outcome.changes if c.action == "commit-history"]
    assert stats.writes == 0


def test_the_report_lists_accounts_whose_product_usage_has_not_risen(tmp_path: Path) -> None:
    world, accounts = _three_months(tmp_path)
    report = build_report(world.gateway, world.settings, ReportInput(accounts=accounts), END)
    section = report.split("## Product usage not risen in 90 days")[1].split("\n## ")[0]
    assert "Acme" in section and "CI use 21% of users on 2026-08-25, 9% of users now" in section
    assert "Globex" not in section  # its SCM use rose


def test_the_report_does_not_compare_a_history_younger_than_the_window(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, today=END)
    world.write("acme", _data("Acme", END, 0.09, 0.8))
    _, run, _ = world.run(END)
    report = build_report(world.gateway, world.settings, ReportInput(accounts=run.accounts), END)
    section = report.split("## Product usage not risen in 90 days")[1].split("\n## ")[0]
    assert "Acme" not in section and "is not compared" in section
