"""An existing customer onboarded late: a customer since 2022 whose onboarding was
completed long ago gets a collaboration project (the usual upgrade engagement). The
customer must read the existing-customer variant (handbook 003; SPEC 5 Onboard): no
welcome call, no "first 45 days", no first-value or month-6 milestones; the README says
where the engagement stands; `verify` accepts it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "vandelay"
RENEWAL = date(2027, 9, 30)


def tell(w: World) -> None:
    def call_held() -> None:
        w.edit(
            SLUG,
            "the CSM records the success-plan call",
            engagement={
                "last_call": date(2026, 11, 12),
                "contacts": 5,
                "personas_last_90_days": ["development-lead", "security-lead"],
            },
            sentiment={"health": "green", "needs_triage": False, "updated": date(2026, 11, 12)},
        )

    w.day(date(2026, 11, 2))
    w.onboard(SLUG)
    w.kept["verify"] = w.verify(SLUG)
    w.triage()
    w.transcript.snapshot()
    w.run_days(
        date(2026, 11, 3),
        date(2026, 11, 23),
        {
            date(2026, 11, 12): call_held,
            date(2026, 11, 16): lambda: w.comment(
                "alice", "tracking", SLUG, "Success plan call held; EBR planned for May."
            ),
        },
    )
    w.kept["verify later"] = w.verify(SLUG)
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "An existing customer onboarded late (Vandelay Industries, commercial, since 2022)",
        date(2026, 11, 2),
        {
            SLUG: customer(
                "Vandelay Industries",
                segment="commercial",
                arr=120000,
                customer_since=date(2022, 5, 1),
                onboarding_completed=date(2022, 6, 20),
                seats={"licensed": 500, "active": 420},  # 84% of seats active
                renewal_date=RENEWAL,
            )
        },
    )
    tell(w)
    return w


def _customer_text(w: World) -> str:
    return "\n".join(w.customer_texts(SLUG).values())


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_project_is_created_for_the_existing_customer(story: World) -> None:
    assert story.customer_project(SLUG) is not None


def test_no_welcome_to_gitlab_call_issue(story: World) -> None:
    titles = [i["title"] for i in story.customer_issues(SLUG)]
    assert not [t for t in titles if "Welcome" in t], titles


def test_readme_does_not_say_first_45_days(story: World) -> None:
    assert "first 45 days" not in story.customer_file(SLUG, "README.md")


def test_readme_does_not_say_onboarding_is_where_we_are(story: World) -> None:
    readme = story.customer_file(SLUG, "README.md")
    assert "**Where we are:** onboarding" not in readme


def test_no_first_value_milestone(story: World) -> None:
    titles = [k for k in story.customer_texts(SLUG) if k.startswith("milestone ")]
    assert not [t for t in titles if "First value" in t], titles


def test_no_month_6_business_review_milestone(story: World) -> None:
    titles = [k for k in story.customer_texts(SLUG) if k.startswith("milestone ")]
    assert not [t for t in titles if "month 6" in t], titles


def test_no_outcome_achieved_milestone(story: World) -> None:
    """handbook 004 "Outcome Achieved" measures delivery against the original purchase
    intent: a new customer's milestone (project_templates/*/manifest.yml)."""
    titles = [k for k in story.customer_texts(SLUG) if k.startswith("milestone ")]
    assert not [t for t in titles if "Outcome achieved" in t], titles


def test_no_ten_percent_of_licenses_promise(story: World) -> None:
    assert "10% of licenses" not in _customer_text(story)


def test_readme_names_the_renewal_date(story: World) -> None:
    assert RENEWAL.isoformat() in story.customer_file(SLUG, "README.md")


def test_readme_speaks_of_the_next_business_review(story: World) -> None:
    readme = story.customer_file(SLUG, "README.md")
    assert "next Executive Business Review" in readme or "next EBR" in readme


def test_verify_accepts_the_existing_customer_variant(story: World) -> None:
    assert "no drift" in story.kept["verify"], story.kept["verify"]


def test_verify_still_accepts_it_three_weeks_later(story: World) -> None:
    assert "no drift" in story.kept["verify later"], story.kept["verify later"]


def test_tracking_issue_says_adopting_not_onboarding(story: World) -> None:
    labels = story.issue("tracking", SLUG)["labels"]
    assert "lifecycle::adopting" in labels and "lifecycle::onboarding" not in labels


def test_no_promise_to_follow_every_ticket(story: World) -> None:
    assert "follows every ticket you open" not in _customer_text(story)


def test_no_internal_kpi_wording_for_the_customer(story: World) -> None:
    assert "KPI" not in _customer_text(story)


def test_team_members_are_profile_links(story: World) -> None:
    readme = story.customer_file(SLUG, "README.md")
    assert "gitlab.example.com/alice" in story.transcript.clean(readme) or "@alice" in readme


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0
