"""SPEC 5.1 / handbook 002 "At Risk Communication Guidelines": who is told, by color."""

from __future__ import annotations

import pytest

from gl_csm.config import People, RegionPeople
from gl_csm.domain.notify import deciding_color, who_to_tell
from tests.domain.factories import account

PEOPLE = People(
    vp_customer_success="vp",
    public_sector_cs_director="ps-dir",
    regions={
        "NORAM": RegionPeople("mgr", "dir", "asm", "rd"),
        "PUBSEC": RegionPeople("pmgr", "pdir", "pasm", "prd"),
    },
)
TEAM = {"csm": "csm1", "ae": "ae1", "sa": "sa1", "pse": "pse1"}
YELLOW = ["ae1", "sa1", "mgr", "dir"]
RED = [*YELLOW, "asm", "rd", "vp"]


@pytest.mark.parametrize(
    ("rule", "health", "sentiment", "expected"),
    [
        ("green health, no sentiment: nobody", "green", None, []),
        ("green health, green sentiment: nobody", "green", "green", []),
        ("yellow health: account team, manager, director", "yellow", None, YELLOW),
        ("a CSM's yellow counts even when the scorecard is green", "green", "yellow", YELLOW),
        ("red health: the yellow list plus ASM, RD, VP", "red", None, RED),
        ("red sentiment on a green scorecard decides red", "green", "red", RED),
        ("the worse of the two decides (yellow health, red sentiment)", "yellow", "red", RED),
        ("unknown health, yellow sentiment", "unknown", "yellow", YELLOW),
        ("no color at all: nobody", None, None, []),
    ],
)
def test_who_is_told(
    rule: str, health: str | None, sentiment: str | None, expected: list[str]
) -> None:
    acct = account(region="NORAM", team=TEAM)
    assert list(who_to_tell(acct, health, sentiment, PEOPLE).usernames) == expected, rule


def test_public_sector_yellow_tells_the_public_sector_director_not_the_csm_director() -> None:
    acct = account(region="PUBSEC", public_sector=True, team=TEAM)
    names = who_to_tell(acct, "yellow", None, PEOPLE).usernames
    assert names == ("ae1", "sa1", "pmgr", "ps-dir")


def test_public_sector_red_adds_asm_rd_and_vp() -> None:
    acct = account(region="PUBSEC", public_sector=True, team=TEAM)
    names = who_to_tell(acct, "red", None, PEOPLE).usernames
    assert names == ("ae1", "sa1", "pmgr", "ps-dir", "pasm", "prd", "vp")


def test_unknown_region_and_missing_roles_are_skipped() -> None:
    acct = account(region="LATAM", team={"csm": "c"})
    assert who_to_tell(acct, "red", None, PEOPLE).usernames == ("vp",)


def test_roles_are_named() -> None:
    acct = account(region="NORAM", team=TEAM)
    roles = dict((name, role) for role, name in who_to_tell(acct, "red", None, PEOPLE).people)
    assert roles["vp"] == "VP of Customer Success"
    assert roles["dir"] == "CSM director"


@pytest.mark.parametrize(
    ("health", "sentiment", "color"),
    [
        ("green", "yellow", "yellow"),
        ("red", "green", "red"),
        (None, "yellow", "yellow"),
        ("unknown", None, None),
        ("yellow", None, "yellow"),
    ],
)
def test_deciding_color(health: str | None, sentiment: str | None, color: str | None) -> None:
    assert deciding_color(health, sentiment) == color
