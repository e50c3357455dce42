"""What the triage run writes for people to read is right and stays current (issue 9):
plan lines match writes, reminder dates, child accounts, sentiment dates, regions,
links to the tracking issue, the bot's part of each issue following the account."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gl_csm import markers
from tests.services.triage_world import ACCOUNTS, RED, TRIAGE, World

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _by_marker(world: World, project: str, kind: str) -> dict[str, dict]:
    return markers.index_by_marker(world.issues(project), kind)


def test_the_plan_names_every_write_it_makes(world: World) -> None:
    """Issue 9 item 13: the fiscal-quarter milestone of a new triage issue is a plan
    line of its own (the printed plan said 31 changes next to 32 writes)."""
    world.add("initech", "Initech", **RED)
    outcome, _, stats = world.run()
    assert outcome.exit_code == 0, outcome.failures
    lines = [c.to_text() for c in outcome.changes]
    assert any(line.split()[0] == "create-milestone" and "FY2028-Q3" in line for line in lines)
    assert len(outcome.changes) == stats.writes, lines
