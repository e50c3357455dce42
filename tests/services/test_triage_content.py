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


def _reminders(world: World) -> dict[str, dict]:
    return _by_marker(world, ACCOUNTS, "reminder")


def test_a_late_renewal_review_states_one_date_the_issues(world: World) -> None:
    """Issue 9 item 7: the 5-months-out review of a renewal found 4 months ahead is due
    today; its body says so too (it said "due 2026-10-31" next to a due date of today)."""
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    world.run(D("2026-11-29"))
    review = _reminders(world)["acme:renewal-review:2027-03-31:5"]
    assert review["due_date"] == "2026-11-29"
    assert "This one is due **2026-11-29**" in review["description"]
    assert "2026-10-31" not in review["description"]


def test_a_child_account_not_managed_on_its_own_gets_no_ebr_or_renewal_review(
    world: World,
) -> None:
    """Issue 9 item 10, handbook 001: priority 3 is a child account not managed outside
    its parent; its EBR and renewal reviews are the parent's CSM's."""
    world.add("parent-co", "Parent Co", renewal_date=D("2027-12-31"))
    world.add(
        "child-co",
        "Child Co",
        parent="parent-co",
        managed=False,
        customer_since=D("2026-06-01"),
        onboarding_completed=D("2026-07-01"),
        renewal_date=D("2027-03-31"),
    )
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    child = [k for k in _reminders(world) if k.startswith("child-co:")]
    assert child == []
    card = _by_marker(world, ACCOUNTS, "tracking")["child-co"]["description"]
    assert "Priority: 3" in card
    assert "Next EBR" not in card and "Next renewal review" not in card


def test_the_card_dates_the_sentiment_from_the_registry(world: World) -> None:
    """Issue 9 item 11: the card's sentiment date is the registry's sentiment.updated,
    not the day the bot first saw it (the stale-health clock must not restart)."""
    world.add("acme", "Acme", sentiment={"health": "yellow", "updated": D("2026-10-01")})
    world.run(D("2026-11-23"))
    card = _by_marker(world, ACCOUNTS, "tracking")["acme"]["description"]
    assert "unchanged since 2026-10-01" in card
    assert "since 2026-11-23" not in card
    # 30 days after the registry's date: the stale-health reminder is already due (on a
    # new tracking issue it is part of the issue's first description).
    tracking = _by_marker(world, ACCOUNTS, "tracking")["acme"]
    texts = [tracking["description"]] + [n["body"] for n in world.notes(ACCOUNTS, tracking["iid"])]
    assert any("has not changed since 2026-10-01" in (t or "") for t in texts)


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ("LATAM", "region 'LATAM' is not in the config's people.regions"),
        (None, "the account has no `region` in the registry"),
    ],
)
def test_a_region_missing_from_the_config_is_said_not_silent(
    world: World, region: str | None, why: str
) -> None:
    """Issue 9 item 9: a red account whose region the config lacks: the run output
    and the triage issue say who could not be told, and why."""
    world.add("initech", "Initech", region=region, **RED)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    text = outcome.render("text", dry_run=False)
    assert f"warning: initech: {why}" in text
    assert "area sales manager, regional director cannot be told" in text
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert f"**Not told:** {why}" in body
    # A configured region: no warning.
    world.add("globex", "Globex", region="EMEA", **RED)
    outcome, _, _ = world.run()
    assert "warning: globex" not in outcome.render("text", dry_run=False)
