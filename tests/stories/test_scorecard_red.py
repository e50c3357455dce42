"""Red from the scorecard alone: the CSM's sentiment stays green, but the usage, the
success plan and the engagement the CSM records collapse. Nobody posts an at-risk
update. The triage issue must explain the red in people's words and suggest the
playbook the red measures point to (SPEC 4, 5.0, 5.2; handbook 002)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "sirius"
MEASURE_KEYS = ("license_utilization", "persona_engagement", "meeting_cadence", "user_engagement")


def tell(w: World) -> None:
    def collapse() -> None:
        w.edit(
            SLUG,
            "the CSM records the quarter's usage and engagement",
            seats={"licensed": 500, "active": 40},
            usage={
                "as_of": date(2026, 11, 8),
                "monthly_active": 0.08,
                "scm": 0.1,
                "ci": 0.05,
                "devsecops": 0.0,
                "cd": 0.0,
            },
            success_plan={"objectives": 0},
            engagement={"last_call": date(2026, 7, 1), "contacts": 2, "personas_last_90_days": []},
        )

    w.run_days(date(2026, 11, 2), date(2026, 12, 6), {date(2026, 11, 9): collapse})
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "Red from the scorecard alone (Sirius Cybernetics, strategic, NORAM)",
        date(2026, 11, 2),
        {
            SLUG: customer(
                "Sirius Cybernetics",
                renewal_date=date(2027, 3, 15),
                sentiment={"health": "green", "needs_triage": False, "updated": date(2026, 11, 1)},
            )
        },
    )
    tell(w)
    return w


def _read(w: World) -> str:
    """What the account team reads: the card, the triage issue and its notes."""
    return "\n".join(
        [w.description("tracking", SLUG), w.description("triage", SLUG), *w.notes("triage", SLUG)]
    )


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_account_is_red(story: World) -> None:
    assert "health::red" in story.issue("tracking", SLUG)["labels"]


def test_triage_issue_opens(story: World) -> None:
    assert story.has("triage", SLUG)


def test_triage_issue_suggests_the_product_usage_playbook(story: World) -> None:
    assert "product-usage" in story.description("triage", SLUG).lower().replace(" ", "-")


def test_triage_issue_gives_advice_not_no_risk_type_yet(story: World) -> None:
    assert "No risk type recorded yet" not in story.description("triage", SLUG)


def test_measures_named_in_words_not_keys(story: World) -> None:
    text = _read(story)
    assert not [k for k in MEASURE_KEYS if k in text]


def test_no_raw_empty_list_value(story: World) -> None:
    assert "| [] |" not in _read(story)


def test_no_spec_references_for_people(story: World) -> None:
    assert "SPEC" not in _read(story)


def test_no_registry_key_jargon(story: World) -> None:
    text = _read(story)
    assert "risk.types" not in text and "sentiment.needs_triage" not in text


def test_card_says_overdue_since_a_date(story: World) -> None:
    assert "overdue since" in story.description("tracking", SLUG)


def test_report_marks_the_update_overdue(story: World) -> None:
    last = story.reports[max(story.reports)]
    assert "overdue" in last


def test_reminders_say_which_reminder_they_are(story: World) -> None:
    reminders = [n for n in story.bot_notes("triage", SLUG) if "at-risk-update" in n]
    assert len(reminders) >= 2 and len({r.split("-->", 1)[-1] for r in reminders}) == len(reminders)


def test_card_has_no_empty_table_header_row(story: World) -> None:
    assert "| | |\n|---|---|" not in story.description("tracking", SLUG)


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_stale_health_note_says_where_to_confirm_in_the_registry_file(story: World) -> None:
    stale = [n for n in story.bot_notes("tracking", SLUG) if "has not changed since" in n]
    assert stale and all("`sirius.yml`" in n and "sentiment.updated" not in n for n in stale), stale
