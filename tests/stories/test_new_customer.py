"""A new customer, from prospect to adoption: onboarded in pre-sales, pays, is promoted
on the AE's label, goes through the onboarding window (first value, checklist done) and
is adopting when the window ends (SPEC 3, 4.1, 5 Onboard/Promote, 5.2)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import prospect
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "nakatomi"
PAID = date(2026, 11, 9)
WINDOW_END = date(2027, 1, 8)  # customer_since + 60 days (strategic window, SPEC 3)


def tell(w: World) -> None:
    """The story, day by day."""

    def pays() -> None:
        w.edit(
            SLUG,
            "the AE records the purchase from the CRM",
            customer_since=PAID,
            arr=240000,
            seats={"licensed": 400, "active": 0},
            renewal_date=date(2027, 11, 8),
            opportunities=None,
        )

    def first_users() -> None:
        w.edit(
            SLUG,
            "the CSM records the first month's usage",
            seats={"licensed": 400, "active": 64},
            usage={
                "as_of": date(2026, 12, 7),
                "monthly_active": 0.16,
                "scm": 0.3,
                "ci": 0.15,
                "devsecops": 0.05,
                "cd": 0.02,
            },
            engagement={
                "last_call": date(2026, 12, 3),
                "contacts": 3,
                "personas_last_90_days": ["development-lead"],
            },
            success_plan={"objectives": 3},
            sentiment={"health": "green", "updated": date(2026, 12, 7)},
        )

    def adopting() -> None:
        w.edit(
            SLUG,
            "the CSM records the usage at the end of onboarding",
            seats={"licensed": 400, "active": 250},
            usage={
                "as_of": date(2027, 1, 4),
                "monthly_active": 0.55,
                "scm": 0.6,
                "ci": 0.4,
                "devsecops": 0.2,
                "cd": 0.2,
            },
        )

    w.day(date(2026, 11, 2))
    w.onboard(SLUG)
    w.triage()
    w.transcript.snapshot()
    w.run_days(
        date(2026, 11, 3),
        date(2027, 1, 12),
        {
            PAID: pays,
            date(2026, 11, 10): lambda: w.label("carol", "tracking", SLUG, add=["action::promote"]),
            date(2026, 12, 7): first_users,
            date(2026, 12, 18): lambda: w.close_customer_issue("alice", SLUG, "Onboarding"),
            date(2027, 1, 5): adopting,
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "A new customer from prospect to adoption (Nakatomi Trading, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: prospect("Nakatomi Trading")},
    )
    tell(w)
    return w


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())
