"""Every reminder kind of `rules.reminders` through the one engine (SPEC 5.2): created
once, refreshed, a no-op rerun renders nothing, its date on the card, a moved anchor;
and a kind added by config alone behaves the same."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.config import load_settings
from gl_csm.services.triage import generated
from tests.conftest import CONFIG
from tests.services.triage_world import ACCOUNTS, World

D = date.fromisoformat

SUCCESS_PLAN = """\
rules:
  reminders:
    success-plan-review:
      title: Success plan review
      anchor: customer_since
      months: [6]
      every_months: 6
      lead_days: 14
      card: Next success plan review
"""


@dataclass(frozen=True)
class Case:
    kind: str
    keys: dict[str, Any]  # the account's registry keys that make the kind due today
    created: tuple[str, ...]  # the marker keys made on 2026-11-23 (after the owner)
    card: str  # the card's line for the kind
    moved: dict[str, Any]  # registry keys moving the anchor
    moved_keys: tuple[str, ...]  # the open keys after the move (none: nothing moves)
    config: str = ""


CASES = [
    Case(
        "renewal-review",
        {"renewal_date": D("2027-04-30")},
        ("renewal-review:2027-04-30:3", "renewal-review:2027-04-30:5"),
        "- Next renewal review: 2026-11-30",
        {"renewal_date": D("2027-05-15")},
        ("renewal-review:2027-05-15:3", "renewal-review:2027-05-15:5"),
    ),
    Case(
        "ebr",
        {"customer_since": D("2025-06-15")},
        ("ebr:2026-12-15",),
        "- Next EBR: 2026-12-15",
        {"customer_since": D("2025-07-01")},
        ("ebr:2027-01-01",),
    ),
    Case(
        "priority-review",
        {},
        ("priority-review:fy2027-q4",),
        "- Priority review: 2026-12-01",
        {},
        (),
    ),
    Case(
        "onboarding-end",
        {"customer_since": D("2026-09-20"), "onboarding_completed": None},
        ("onboarding-end:2026-11-19",),
        "",  # ended: no next date left on the card
        {"customer_since": D("2026-09-22")},
        ("onboarding-end:2026-11-19", "onboarding-end:2026-11-21"),
    ),
    Case(
        "success-plan-review",
        {"customer_since": D("2026-06-01")},
        ("success-plan-review:2026-12-01",),
        "- Next success plan review: 2026-12-01",
        {"customer_since": D("2026-06-05")},
        ("success-plan-review:2026-12-05",),
        config=SUCCESS_PLAN,
    ),
]


def _world(tmp_path: Path, case: Case) -> World:
    world = World(tmp_path)
    if case.config:
        (world.root / "gl-csm.yml").write_text(CONFIG + case.config)
        world.settings = load_settings(world.root / "gl-csm.yml", environ={})
    world.add("acme", "Acme", **case.keys)
    return world


def _made(world: World, case: Case) -> list[tuple[str, dict]]:
    """(key, object) of the kind: reminder issues, or notes on the tracking issue."""
    out = []
    for issue in world.issues(ACCOUNTS):
        for kind, key in markers.markers_in(issue.get("description")):
            if kind == "reminder" and f":{case.kind}:" in f"{key}:":
                out.append((key, issue))
        if markers.has_marker(issue.get("description"), "tracking", "acme"):
            # A note due when the tracking issue is created goes in its text.
            for note in [{"body": issue["description"]}, *world.notes(ACCOUNTS, issue["iid"])]:
                for kind, key in markers.markers_in(note.get("body")):
                    if kind == "tracking-note" and key.startswith(f"acme:{case.kind}:"):
                        out.append((key, note))
    return out


def _card(world: World) -> str:
    index = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")
    return index["acme"]["description"]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Counter:
    counted: Counter = Counter()
    real = generated.render_template

    def counting(name: str, context):  # type: ignore[no-untyped-def]
        counted[name] += 1
        return real(name, context)

    monkeypatch.setattr(generated, "render_template", counting)
    return counted


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_each_reminder_kind_through_the_engine(
    tmp_path: Path, case: Case, renders: Counter
) -> None:
    world = _world(tmp_path, case)
    kind = world.settings.rules.reminder(case.kind)
    world.run(D("2026-11-23"))
    made = _made(world, case)
    owner = "csm.alice" if kind.per == "csm" else "acme"
    assert sorted(key for key, _ in made) == [f"{owner}:{k}" for k in case.created]
    card = _card(world)
    if case.card:
        assert case.card in card
    else:
        assert f"- {kind.card}:" not in card

    # A no-op rerun the same day writes nothing and renders no generated part.
    renders.clear()
    _, _, stats = world.run()
    assert stats.writes == 0
    assert renders[kind.template] == 0
    assert len(_made(world, case)) == len(case.created)  # created once

    # Refreshed: an issue's bot part follows the account (ARR).
    world.add("acme", "Acme", **{**case.keys, "arr": 640000})
    world.run()
    if kind.post == "issue" and kind.per == "account":
        for _, issue in _made(world, case):
            assert "$640,000" in issue["description"] or "ARR" not in issue["description"]
            assert "[Acme #" in issue["description"]  # the tracking link
    elif kind.per == "csm":  # the CSM's book follows the priorities (P1 at $500,000)
        ((_, issue),) = _made(world, case)
        assert "| Acme | strategic | 1 |" in issue["description"]
    _, _, stats = world.run()
    assert stats.writes == 0

    # A moved anchor: the open issue takes the new date (never a second one beside it).
    if case.moved_keys:
        world.add("acme", "Acme", **{**case.keys, **case.moved, "arr": 640000})
        world.run()
        made = _made(world, case)
        keys = sorted(key for key, obj in made if obj.get("state", "opened") == "opened")
        # Issues are re-dated (the same issues); a note is posted once per date.
        assert keys == [f"acme:{k}" for k in case.moved_keys]
        assert len(made) == len(case.moved_keys)
        _, _, stats = world.run()
        assert stats.writes == 0


def test_the_end_of_onboarding_is_on_the_card_until_it_comes(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme", "Acme", customer_since=D("2026-09-20"), onboarding_completed=None)
    world.run(D("2026-11-10"))
    assert "- End of onboarding: 2026-11-19" in _card(world)
    world.run(D("2026-11-20"))
    assert "End of onboarding:" not in _card(world)  # it came: the note says so instead
    assert "onboarding of **Acme** ended on 2026-11-19" in "".join(
        n["body"]
        for n in world.notes(
            ACCOUNTS, markers.index_by_marker(world.issues(ACCOUNTS), "tracking")["acme"]["iid"]
        )
    )
