"""A one-off tracking note (SPEC 5.2 stale health, end of onboarding)
is recorded as posted in the card only once GitLab confirmed it (doc/api/notes.md)."""

from __future__ import annotations

from datetime import date as D
from pathlib import Path

import pytest

from tests.services.triage_world import ACCOUNTS, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _stale(world: World, iid: int) -> list[str]:
    return [n["body"] for n in world.notes(ACCOUNTS, iid) if "stale-health" in n["body"]]


def test_a_note_that_failed_is_sent_by_the_next_run(world: World) -> None:
    world.add("acme", "Acme")
    world.run(D(2026, 11, 23))
    iid = next(i for i in world.issues(ACCOUNTS) if "tracking:acme" in i["description"])["iid"]
    world.person().update_issue(ACCOUNTS, iid, add_labels="sentiment::yellow")
    world.run(D(2026, 11, 24))
    # Every attempt of the note answers 502 (GitLab down for the notes API).
    world.sandbox.inject("POST", rf"/issues/{iid}/notes$", 502, times=6)
    outcome, _, _ = world.run(D(2026, 12, 24))
    assert outcome.failures and _stale(world, iid) == []
    card = next(i for i in world.issues(ACCOUNTS) if i["iid"] == iid)["description"]
    assert "stale-health" not in card.split("gl-csm-data", 1)[-1]
    assert world.sandbox._injections == []  # all six attempts of the create answered 502
    world.run(D(2026, 12, 25))
    assert len(_stale(world, iid)) == 1
