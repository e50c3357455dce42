"""The portfolio history over two and a half years (SPEC 5 Portfolio view): one file a
year (gl_csm/domain/history_periods.py), so the daily run of the third year reads and
re-sends what it did in the second, while the card's "red since" a date of the first
year, the 90-day measure comparison across the new year and the first value read
right; old files are never rewritten, and single files of earlier versions upgrade
without losing a row. In-process sandbox; the gateway's file reads and commits counted
in bytes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.domain.history import parse_csv
from gl_csm.services.card_data import card_data
from gl_csm.services.triage.history import FOLDER, file_for
from tests.services.triage_world import ACCOUNTS, World, account_data

START = date(2026, 1, 5)
END = date(2028, 6, 28)
FILLERS = 12


class Wire:
    """What the bot's gateway reads of ``history/`` and sends in its history commits."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read: list[tuple[str, int]] = []
        self.sent = 0
        gw = world.gateway
        read, commit = gw.file_text, gw.commit

        def file_text(project: Any, path: str, ref: str) -> str | None:
            text = read(project, path, ref)
            if path.startswith(f"{FOLDER}/"):
                self.read.append((path, len((text or "").encode())))
            return text

        def spy_commit(project: Any, branch: str, message: str, actions: list, *a: Any, **k: Any):
            if "Portfolio history" in message:
                self.sent += sum(len(x["content"].encode()) for x in actions)
            return commit(project, branch, message, actions, *a, **k)

        monkeypatch.setattr(gw, "file_text", file_text)
        monkeypatch.setattr(gw, "commit", spy_commit)

    def reset(self) -> None:
        self.read, self.sent = [], 0


def _acme(ci: float, scm: float, day: date) -> dict[str, Any]:
    data = account_data("Acme")
    data["usage"] = {**data["usage"], "as_of": day, "ci": ci, "scm": scm}
    return data


def _fresh(data: dict[str, Any], day: date) -> dict[str, Any]:
    """The dates a CRM refresh moves (no measure's value among them)."""
    data["engagement"] = {**data["engagement"], "last_call": day - timedelta(days=3)}
    data["support"] = {**data["support"], "as_of": day}
    data["sentiment"] = {**data["sentiment"], "updated": day}
    data["usage"] = {**data["usage"], "as_of": day}
    return data


def _card(world: World, slug: str) -> str:
    issues = world.issues(ACCOUNTS, state="all")
    return markers.index_by_marker(issues, "tracking")[slug]["description"]


def _days() -> list[date]:
    events = {date(2026, 3, 2), date(2026, 4, 1), date(2027, 10, 20), date(2028, 1, 20)}
    every = {START + timedelta(days=14 * n) for n in range((END - START).days // 14 + 1)}
    return sorted(events | every | {date(2028, 3, 1)})


def test_the_third_year_costs_what_the_second_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(tmp_path, today=START)
    wire = Wire(world, monkeypatch)
    rng = random.Random(7)
    usage = {f"filler-{i:02d}": 0.5 for i in range(FILLERS)}
    ci, scm = 0.21, 0.5
    red = account_data("Red Co")
    newco = account_data("New Co", customer_since=date(2025, 12, 1))
    newco["seats"] = {"licensed": 100, "active": 5}
    measured: dict[date, tuple[list[tuple[str, int]], int, int]] = {}
    old_2026 = None
    for day in _days():
        for slug in usage:
            usage[slug] = round(min(1.0, max(0.1, usage[slug] + rng.uniform(-0.2, 0.2))), 2)
            data = account_data(slug.title())
            data["usage"] = {**data["usage"], "monthly_active": usage[slug]}
            world.write(slug, _fresh(data, day))
        if day == date(2026, 3, 2):  # red from here on, for more than two years
            red["sentiment"] = {"health": "red", "updated": day}
        if day == date(2026, 4, 1):  # 10% of the seats active: first value
            newco["seats"] = {"licensed": 100, "active": 40}
        ci = {date(2027, 10, 20): 0.15, date(2028, 1, 20): 0.09}.get(day, ci)
        scm = 0.7 if day == date(2028, 3, 1) else scm
        world.write("red-co", _fresh(red, day))
        world.write("new-co", _fresh(newco, day))
        world.write("acme", _fresh(_acme(ci, scm, day), day))
        wire.reset()
        outcome, _, _ = world.run(day)
        assert outcome.exit_code == 0, outcome.failures
        measured[day] = (wire.read, wire.sent, 0)
        wire.reset()
        again, _, noop = world.run(day)  # the no-op rerun of the day
        assert noop.writes == 0, (day, [c.to_text() for c in again.changes])
        # Its history reads: the files it read (the folder listing is one more).
        measured[day] = (measured[day][0], measured[day][1], len(wire.read))
        if day.year == 2027 and old_2026 is None:
            old_2026 = world.person().file_text(ACCOUNTS, file_for(None, 2026), "main")
        if day == date(2028, 1, 20):
            # 90 days back is 2027-10-22: the value the 2027 file recorded on 10-20,
            # which the 2028 file copied (the last 92 days of the year before).
            assert "- CI use 9% of users, down from 15% of users on 2027-10-20." in _card(
                world, "acme"
            )
        if day == date(2028, 3, 1):
            # SCM moved today; 90 days back its value was the one of the first day, two
            # years before: the state carried into each year kept it, with its date.
            scm_line = "- Source code management use 70% of users, up from 50% of users on"
            assert f"{scm_line} 2026-01-05." in _card(world, "acme")
    assert "History: red since 2026-03-02" in _card(world, "red-co")
    assert card_data(_card(world, "new-co"))["evidence"]["first_value"] == "2026-04-01"

    # Old files are never rewritten; every year has its file.
    assert world.person().file_text(ACCOUNTS, file_for(None, 2026), "main") == old_2026
    listing = [e["path"] for e in world.person().folder(ACCOUNTS, FOLDER, "main")]
    assert listing == [file_for(None, y) for y in (2026, 2027, 2028)]

    # The third year reads and re-sends what the second did: its own file only, about
    # the same bytes on the same day of the year; the no-op rerun reads one file.
    first_of_2028 = min(d for d in measured if d.year == 2028)
    for day, (read, sent, noop) in measured.items():
        if day.year == 2028:
            # The year's first run reads the year before's file, and starts its own.
            year = 2027 if day == first_of_2028 else 2028
            assert [p for p, _ in read] == [file_for(None, year)], (day, read)
            year_before = min(measured, key=lambda d: abs((day - d).days - 364))
            before_read = sum(n for _, n in measured[year_before][0])
            assert sum(n for _, n in read) <= 1.25 * before_read + 2000, (day, year_before)
            assert sent <= 1.25 * max(measured[year_before][1], before_read) + 2000
        assert noop == 1, (day, noop)
    whole = sum(
        len((world.person().file_text(ACCOUNTS, file_for(None, y), "main") or "").encode())
        for y in (2026, 2027, 2028)
    )
    for year in (2026, 2027, 2028):
        day = min(measured, key=lambda d: abs((d - date(year, 6, 20)).days))
        read, sent, _ = measured[day]
        print(f"{day}: read {sum(n for _, n in read)} bytes ({len(read)} file), sent {sent}")
    print(f"history: {whole} bytes in three files")
    # What a year's file carries from before (the rows dated before the year) stays the
    # same size: each account's carried rows, not the years behind them.
    carried = {
        y: [
            r
            for r in parse_csv(
                world.person().file_text(ACCOUNTS, file_for(None, y), "main") or "", "f"
            )
            if r.day < date(y, 1, 1)
        ]
        for y in (2027, 2028)
    }
    assert len(carried[2028]) <= 1.1 * len(carried[2027]), {y: len(c) for y, c in carried.items()}
    text = world.person().file_text(ACCOUNTS, file_for(None, 2028), "main") or ""
    cut = f"{date(2027, 12, 31) - timedelta(days=91)}"
    parts = {"carried": 0, "last 92 days of 2027": 0, "2028": 0}
    for line in text.splitlines()[1:]:
        part = "2028" if line >= "2028" else "carried" if line < cut else "last 92 days of 2027"
        parts[part] += len(line) + 1
    print(f"{file_for(None, 2028)}: {parts} bytes, {FILLERS + 3} accounts")


def test_single_files_of_earlier_versions_upgrade_without_losing_a_row(tmp_path: Path) -> None:
    """history/portfolio.csv of an earlier gl-csm, two years long: the first run after
    the upgrade starts the year's file with what it needs of it, leaves it as it was, and
    later runs no longer read it."""
    world = World(tmp_path, today=date(2027, 5, 3))
    world.add("acme", "Acme", sentiment={"health": "red", "updated": date(2027, 5, 3)})
    old = (
        "date,account,health,score,priority,lifecycle,measures\n"
        '2025-06-02,acme,green,80,3,adopting,"{""ci"":""0.4""}"\n'
        "2025-09-01,acme,red,40,1,adopting,\n"
        "2026-02-02,acme,red,35,1,adopting,\n"
        '2027-03-01,acme,red,30,1,adopting,"{""scm"":""0.5""}"\n'
    )
    world.person().commit(
        ACCOUNTS,
        "main",
        "the history of an earlier gl-csm",
        [{"action": "create", "file_path": f"{FOLDER}/portfolio.csv", "content": old}],
        "earlier",
    )
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    assert "History: red since 2025-09-01" in _card(world, "acme")
    assert world.person().file_text(ACCOUNTS, f"{FOLDER}/portfolio.csv", "main") == old
    rows = parse_csv(world.person().file_text(ACCOUNTS, file_for(None, 2027), "main") or "", "f")
    # The state carried in (the old file's rows before the last 92 days of 2026: the last
    # six, here all three), then the old file's row of 2027, then today's.
    assert [(r.day.isoformat(), dict(r.measures)) for r in rows][:4] == [
        ("2025-06-02", {"ci": "0.4"}),
        ("2025-09-01", {}),
        ("2026-02-02", {}),
        ("2027-03-01", {"scm": "0.5"}),
    ]
    assert rows[-1].day == date(2027, 5, 3) and len(rows) == 5
    # A later day: the year's file answers; the old one is not read again.
    world.add("acme", "Acme", sentiment={"health": "green", "updated": date(2027, 8, 30)})
    outcome, _, _ = world.run(date(2027, 9, 1))
    assert outcome.exit_code == 0, outcome.failures
    reads = _file_reads(world)
    world.run(date(2027, 9, 2))
    assert [p for p in reads if p.startswith(f"{FOLDER}/")] == [file_for(None, 2027)]
    assert world.person().file_text(ACCOUNTS, f"{FOLDER}/portfolio.csv", "main") == old


def _file_reads(world: World) -> list[str]:
    """The repository files the bot's gateway reads from now on, in order."""
    reads: list[str] = []
    original = world.gateway.file_text

    def spy(project: Any, path: str, ref: str) -> str | None:
        reads.append(path)
        return original(project, path, ref)

    world.gateway.file_text = spy  # type: ignore[method-assign]
    return reads


def test_a_shard_that_has_not_written_this_year_loses_nothing(tmp_path: Path) -> None:
    """Two CI shards: in January only shard 1 has changes, so 2027 has shard 1's file
    only. Until shard 2 writes, the year is incomplete and the runs read 2026's files
    too: shard 2's accounts keep their history (nothing re-written as new); once shard 2
    starts its file, the year's files alone answer."""
    from gl_csm.services.triage.shards import in_shard

    world = World(tmp_path, today=date(2026, 12, 1))
    slugs = [f"acct-{i}" for i in range(6)]
    one = next(s for s in slugs if in_shard(s, (1, 2)))
    two = next(s for s in slugs if in_shard(s, (2, 2)))
    reads = _file_reads(world)

    health = dict.fromkeys(slugs, "green")

    def both(day: date) -> list[int]:
        for slug in slugs:  # a CRM refresh: fresh dates, nothing else moves
            data = account_data(slug, renewal_date=date(2029, 3, 1))
            data["sentiment"] = {"health": health[slug], "updated": day}
            world.write(slug, _fresh(data, day))
        reads.clear()
        commits = []
        for shard in ((1, 2), (2, 2)):
            outcome, _, _ = world.run(day, shard=shard)
            assert outcome.exit_code == 0, outcome.failures
            commits.append(sum(1 for c in outcome.changes if c.action == "commit-history"))
        return commits

    assert both(date(2026, 12, 1)) == [1, 1]
    health[one] = "yellow"
    assert both(date(2027, 1, 4)) == [1, 0]
    assert both(date(2027, 6, 1)) == [0, 0]  # shard 2's accounts are not new
    assert file_for((2, 2), 2026) in reads
    health[two] = "yellow"
    assert both(date(2027, 6, 2)) == [0, 1]
    both(date(2027, 6, 3))
    history = {p for p in reads if p.startswith(f"{FOLDER}/")}
    assert history == {file_for((1, 2), 2027), file_for((2, 2), 2027)}
