"""The executive brief of the EBR reminder (handbook 001 "E-Group Customer Calls":
ARR, users, tier, renewal date, stages in use; with the health and its history, the time
to value and the open risks), refreshed until the EBR is held."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gl_csm import markers
from tests.services.triage_world import ACCOUNTS, World

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _ebr(world: World, slug: str) -> dict:
    reminders = markers.index_by_marker(world.issues(ACCOUNTS), "reminder")
    found = [i for k, i in reminders.items() if k.startswith(f"{slug}:ebr:")]
    assert len(found) == 1, sorted(reminders)
    return found[0]


def _brief(issue: dict) -> str:
    return issue["description"].split("### Executive brief (internal)", 1)[1]


def _acme(world: World, **keys: object) -> None:
    world.add(
        "acme",
        "Acme",
        customer_since=D("2025-07-01"),  # month-6 EBR on 2026-01-01: opened 90 days ahead
        onboarding_completed=D("2025-08-15"),
        plan="ultimate",
        deployment="self-managed",
        stages_adopted=["create", "verify", "secure"],
        **keys,
    )


def test_the_ebr_issue_carries_the_executive_brief(world: World) -> None:
    _acme(world)
    world.run()
    brief = _brief(_ebr(world, "acme"))
    for line in (
        "| ARR | $300,000 |",
        "| Users | 90 active of 100 licensed |",
        "| Tier | ultimate (self-managed) |",
        "| Renewal date | 2027-10-31 |",
        "| Stages in use | create, verify, secure |",
        "| Health | green (score ",
        "- 2026-11-23: green (score ",
        "- Onboarding: 2025-08-15 (45 days)",
        "- none recorded",
    ):
        assert line in brief, (line, brief)


def test_the_brief_follows_the_account_until_the_ebr_is_held(world: World) -> None:
    _acme(world)
    world.run()
    outcome, _, stats = world.run()
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]
    # The account turns red (contraction): the brief shows the new health, its history
    # and the risk.
    _acme(
        world,
        arr=250000,
        risk={"contraction": True, "types": ["cost-budget"], "reasons": ["loss-of-budget"]},
    )
    world.run(D("2026-11-24"))
    brief = _brief(_ebr(world, "acme"))
    assert "| ARR | $250,000 |" in brief and "| Health | red (score " in brief, brief
    assert "- 2026-11-24: red (score" in brief and "- 2026-11-23: green (score" in brief
    assert "potential contraction or churn" in brief and "risk types: cost-budget" in brief
    outcome, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]
    # The EBR is held: the issue is closed and no longer rewritten.
    issue = _ebr(world, "acme")
    world.person().update_issue(ACCOUNTS, issue["iid"], state_event="close")
    _acme(world, arr=200000)
    world.run(D("2026-11-25"))
    assert "| ARR | $250,000 |" in _brief(_ebr(world, "acme"))
