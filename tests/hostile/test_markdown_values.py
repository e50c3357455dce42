"""Registry text cannot silence the triage mentions.

Mentions are recorded by the sandbox as GitLab renders them (doc/user/discussions/
_index.md "Mentions": not in code spans, code blocks or HTML comments); values are
neutralised for where they land (gl_csm/templates.py: neutralise, cell)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.templates import render
from tests.services.triage_world import RED, TRIAGE, World

HOSTILE = [
    {"region": "NORAM\n```"},
    {"region": "NORAM `"},
    {"name": "Evil ``` Corp\n~~~\n<details>\n["},
    {"region": "NORAM\n<!--"},
    {"project": "account-management/customers/x\n```\n"},
]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.mark.parametrize("keys", HOSTILE)
def test_people_the_run_says_it_told_are_the_mentions_gitlab_recorded(
    world: World, keys: dict
) -> None:
    world.add("evil", **RED, **keys)
    outcome, run, _ = world.run()
    (change,) = [c for c in outcome.changes if c.target.endswith("triage issue of evil")]
    said = set(change.detail.split("mentioning ", 1)[1].split(", ")) - {"nobody"}
    (issue,) = world.issues(TRIAGE)
    assert said, "a red account tells somebody"
    assert world.mentioned(TRIAGE, issue["iid"]) == said


def test_a_table_cell_value_stays_in_its_cell() -> None:
    out = render("| a | {{ x }} |\n| b | {{ y }} |\n", {"x": "1\n```\n| c", "y": None})
    assert out.splitlines()[0] == "| a | 1 \\`\\`\\` \\| c |"
    assert out.splitlines()[1] == "| b |  |"
