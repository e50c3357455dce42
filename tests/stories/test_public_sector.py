"""Public sector: yellow -> red -> yellow. The CSM asks for triage at yellow; the account
turns red on the CSM's sentiment label, then back to yellow. Who is told follows the
color that decides, with the Director of Customer Success Public Sector instead of the
regional CSM manager and director (SPEC 5.1; handbook 002)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "franklin"
YELLOW = {"health": "yellow", "needs_triage": True, "updated": date(2026, 10, 30)}


def tell(w: World) -> None:
    def red() -> None:
        w.label("alice", "tracking", SLUG, add=["sentiment::red"])
        w.kept["told at yellow"] = set(w.mentioned("triage", SLUG))

    def keep_red() -> None:
        w.kept["triage while red"] = w.description("triage", SLUG)
        w.kept["told at red"] = set(w.mentioned("triage", SLUG))
        w.comment(
            "alice",
            "triage",
            SLUG,
            "At-risk update: the agency's CIO froze the rollout pending a security review.",
        )

    w.run_days(
        date(2026, 11, 2),
        date(2026, 11, 30),
        {
            date(2026, 11, 9): red,
            date(2026, 11, 12): keep_red,
            date(2026, 11, 19): lambda: w.label(
                "alice", "tracking", SLUG, add=["sentiment::yellow"], remove=["sentiment::red"]
            ),
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "Public sector: yellow, red, yellow again (State of Franklin, PUBSEC)",
        date(2026, 11, 2),
        {
            SLUG: customer(
                "State of Franklin",
                region="PUBSEC",
                public_sector=True,
                sentiment=YELLOW,
                renewal_date=date(2027, 8, 31),
            )
        },
    )
    tell(w)
    return w


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_yellow_tells_the_account_team(story: World) -> None:
    assert {"carol", "bob"} <= story.kept["told at yellow"]


def test_yellow_tells_the_public_sector_director(story: World) -> None:
    assert "ps-director" in story.kept["told at yellow"]


def test_yellow_tells_the_regional_manager_but_not_the_csm_director(story: World) -> None:
    """handbook 002, Yellow: the Regional CSM Manager always; "CSM Director (all non-Public
    Sector customers) or Director of Customer Success Public Sector" — the public-sector
    director takes the CSM director's place, not the manager's."""
    told = story.kept["told at yellow"]
    assert "pubsec-mgr" in told and "pubsec-dir" not in told


def test_red_tells_asm_regional_director_and_vp(story: World) -> None:
    assert {"pubsec-asm", "pubsec-rd", "vp-cs"} <= story.kept["told at red"]


def test_red_list_told_once(story: World) -> None:
    assert story.mentioned("triage", SLUG).count("vp-cs") == 1


def test_who_is_told_header_says_red_while_red(story: World) -> None:
    text = story.kept["triage while red"]
    assert "Who is told (red" in text and "Who is told (yellow" not in text


def test_who_is_told_header_says_yellow_after_red(story: World) -> None:
    text = story.description("triage", SLUG)
    assert "Who is told (yellow" in text and "Who is told (red" not in text


def test_triage_stays_open_back_at_yellow(story: World) -> None:
    assert story.issue("triage", SLUG)["state"] == "opened"


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0
