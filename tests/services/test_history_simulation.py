"""30 simulated days of triage over 300 generated accounts (SPEC 5 Portfolio view):
the history in GitLab holds only changes, and the cards show the right since-dates and
trends. In-process sandbox, ``today`` stepped a day at a time, registry data drifting."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from gl_csm.domain.history import parse_csv, row_of
from gl_csm.services.card_data import card_data
from gl_csm.services.triage.history import FOLDER, file_for
from tests.services.triage_world import ACCOUNTS, World, account_data

START = date(2026, 10, 1)
DAYS = 30
N = 300
STORIES = ("acct-007", "acct-008")  # kept out of the random drift: their story is scripted


class _NoAliases(yaml.SafeDumper):
    """One date object used twice would be dumped as a YAML alias, which the registry
    refuses (rightly: people do not write them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _write(world: World, slug: str, data: dict[str, Any]) -> None:
    text = yaml.dump(data, Dumper=_NoAliases, sort_keys=False)
    (world.root / "accounts" / f"{slug}.yml").write_text(text)


def _generate(world: World, rng: random.Random, n: int = N) -> dict[str, dict[str, Any]]:
    accounts = {}
    for i in range(n):
        slug = f"acct-{i:03d}"
        data = account_data(
            f"Account {i}",
            arr=rng.randint(20, 900) * 1000,
            renewal_date=START + timedelta(days=rng.randint(20, 700)),
            seats={"licensed": 100, "active": rng.randint(40, 100)},
            team={"csm": ("alice", "erin", "frank")[i % 3], "sa": "bob", "ae": "carol"},
        )
        data["usage"] = {**data["usage"], "as_of": START, "monthly_active": 0.8}
        data["engagement"] = {**data["engagement"], "last_call": START - timedelta(days=5)}
        data["support"] = {**data["support"], "as_of": START}
        data["sentiment"] = {"health": "green", "updated": START}
        accounts[slug] = data
        _write(world, slug, data)
    return accounts


def _drift(world: World, accounts: dict[str, dict[str, Any]], day: date, rng: random.Random):
    """A CRM refresh of a few accounts a day: usage moves, some sentiments change."""
    for slug in rng.sample([s for s in sorted(accounts) if s not in STORIES], 12):
        data = accounts[slug]
        usage = dict(data["usage"])
        usage["monthly_active"] = round(
            min(1.0, max(0.05, usage["monthly_active"] + rng.uniform(-0.3, 0.2))), 2
        )
        usage["as_of"] = day
        data["usage"] = usage
        data["support"] = {**data["support"], "as_of": day}
        data["engagement"] = {**data["engagement"], "last_call": day}
        if rng.random() < 0.3:
            data["sentiment"] = {"health": rng.choice(("green", "yellow", "red")), "updated": day}
        _write(world, slug, data)


def test_thirty_days_of_history(tmp_path: Path) -> None:
    world = World(tmp_path, today=START)
    rng = random.Random(12)
    accounts = _generate(world, rng)
    # Two accounts with a known story: one turns red on day 10 and stays red, one
    # whose usage climbs from day 0 to day 30.
    expected: list[tuple[date, str, tuple]] = []
    last: dict[str, tuple] = {}
    measures: dict[str, dict[str, str]] = {}
    series: dict[str, dict[date, tuple]] = {}
    commits_per_day = []
    for offset in range(DAYS + 1):
        day = START + timedelta(days=offset)
        world.today = day
        if offset:
            _drift(world, accounts, day, rng)
        if offset == 10:
            red = accounts["acct-007"]
            red["sentiment"] = {"health": "red", "updated": day}
            red["risk"] = {
                "contraction": True,
                "types": ["roi"],
                "reasons": ["other"],
                "impacts": ["seat-churn"],
            }
            _write(world, "acct-007", red)
        climber = accounts["acct-008"]
        climber["usage"] = {
            **climber["usage"],
            "monthly_active": round(0.2 + offset * 0.02, 2),
            "as_of": day,
        }
        climber["support"] = {**climber["support"], "as_of": day}
        climber["engagement"] = {**climber["engagement"], "last_call": day}
        climber["sentiment"] = {"health": "green", "updated": START}
        _write(world, "acct-008", climber)
        outcome, run, _ = world.run(day)
        assert outcome.exit_code == 0, outcome.failures
        # Each account's state and measures as the run assessed them (domain, SPEC 3-4);
        # the history must hold exactly the days they differ from the day before, with
        # only the measures that changed.
        for slug, r in run.accounts.items():
            score = r["score"]
            state = (
                r["health"],
                None if score is None else round(score),
                r["priority"],
                r["lifecycle"],
            )
            series.setdefault(slug, {})[day] = state
            values = dict(row_of(day, slug, r).measures)
            known = measures.setdefault(slug, {})
            moved = {k: v for k, v in values.items() if known.get(k, "") != v}
            if last.get(slug) != state or moved:
                expected.append((day, slug, state, moved))
                last[slug] = state
                known.update(moved)
        commits_per_day.append(sum(1 for c in outcome.changes if c.action == "commit-history"))

    text = world.person().file_text(ACCOUNTS, file_for(None, START.year), "main")
    assert text is not None
    lines = text.splitlines()
    assert lines[0] == "date,account,health,score,priority,lifecycle,measures"
    got = [
        (r.day, r.account, (r.health, r.score, r.priority, r.lifecycle), dict(r.measures))
        for r in parse_csv(text, file_for(None, START.year))
    ]

    # Only changes: exactly the (day, account) pairs whose state or measures differ from
    # the day before, each with only the measures that moved.
    key = lambda e: (e[0], e[1])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    assert len(got) < N * (DAYS + 1) / 4  # far from daily copies
    # One commit a day at most, none on a day nothing changed.
    assert all(c <= 1 for c in commits_per_day) and commits_per_day[0] == 1
    folder = world.person().folder(ACCOUNTS, FOLDER, "main")
    assert [e["path"] for e in folder] == [file_for(None, START.year)]

    tracking = {
        i["description"].split("gl-csm:tracking:")[1].split(" ")[0]: i
        for i in world.issues(ACCOUNTS)
        if "gl-csm:tracking:" in (i["description"] or "")
    }
    end = START + timedelta(days=DAYS)
    red_series = series["acct-007"]
    assert red_series[end][0] == "red"
    red_since = min(
        d for d in red_series if all(red_series[x][0] == "red" for x in red_series if x >= d)
    )
    assert red_since == START + timedelta(days=10)
    desc = tracking["acct-007"]["description"]
    assert f"History: red since {red_since.isoformat()}" in desc
    assert card_data(desc)["health_since"] == red_since.isoformat()
    climb = series["acct-008"]
    before_score, now_score = climb[START][1], climb[end][1]
    assert before_score < now_score
    assert f"score {before_score} → {now_score} in 30 days" in tracking["acct-008"]["description"]

    first = sum(len(line) + 1 for line in lines[1:] if line.startswith(START.isoformat()))
    print(
        f"history: {len(got)} rows, {len(text.encode())} bytes for {N} accounts x {DAYS + 1} days"
        f" (first day {first} bytes)"
    )
