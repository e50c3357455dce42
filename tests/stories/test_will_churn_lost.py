"""Red -> will-churn -> lost. A red customer with a confirmed contraction: the CSM adds
`lifecycle::will-churn`, the checklist opens, the four steps are ticked over a week, the
bot sets the label, and the CSM concludes the triage with `triage::resolved` (SPEC 4
Lifecycle, 5 Triage, 5.0; handbook 002 "will churn")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gl_csm.services.moves.will_churn import STEPS
from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "oceanic"
RED = {
    "sentiment": {"health": "red", "needs_triage": True, "updated": date(2026, 10, 30)},
    "risk": {
        "contraction": True,
        "types": ["cost-budget"],
        "reasons": ["loss-of-budget"],
        "impacts": ["customer-churn"],
    },
}


def tell(w: World) -> None:
    def resolve() -> None:
        w.label("alice", "triage", SLUG, add=["triage::resolved"])
        w.kept["triage at close"] = w.description("triage", SLUG)
        w.kept["triage iid at close"] = w.issue("triage", SLUG)["iid"]
        w.kept["triage notes at close"] = w.bot_notes("triage", SLUG)

    def keep_labels(day: str) -> None:
        w.kept[f"tracking labels {day}"] = list(w.issue("tracking", SLUG)["labels"])
        w.kept[f"card {day}"] = w.description("tracking", SLUG)

    w.run_days(
        date(2026, 11, 2),
        date(2026, 11, 30),
        {
            date(2026, 11, 3): lambda: w.comment(
                "alice",
                "triage",
                SLUG,
                "At-risk update: budget cut confirmed by the CFO; no renewal budget for 2027.",
            ),
            date(2026, 11, 10): lambda: w.label(
                "alice", "tracking", SLUG, add=["lifecycle::will-churn"]
            ),
            date(2026, 11, 11): lambda: w.tick("alice", "will-churn", SLUG, STEPS[0]),
            date(2026, 11, 13): lambda: (
                w.tick("alice", "will-churn", SLUG, STEPS[1]),
                keep_labels("two boxes ticked"),
            ),
            date(2026, 11, 16): lambda: w.tick("carol", "will-churn", SLUG, STEPS[2], STEPS[3]),
            date(2026, 11, 18): resolve,
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "Red, will churn, lost (Oceanic Airlines, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: customer("Oceanic Airlines", renewal_date=date(2027, 1, 31), **RED)},
    )
    tell(w)
    return w


def _closing_note(w: World) -> str:
    notes = w.bot_notes("triage", SLUG)
    return notes[-1] if notes else ""


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_checklist_opens_on_the_label(story: World) -> None:
    assert story.has("will-churn", SLUG)


def test_checklist_mentions_the_csm_manager_for_step_2(story: World) -> None:
    assert "noram-mgr" in story.mentioned("will-churn", SLUG)


def test_checklist_mentions_the_ae_for_step_3(story: World) -> None:
    assert "carol" in story.mentioned("will-churn", SLUG)


def test_card_lists_the_steps_left_while_boxes_are_open(story: World) -> None:
    assert STEPS[2] in story.kept["card two boxes ticked"]


def test_will_churn_label_not_set_while_boxes_are_open(story: World) -> None:
    assert "lifecycle::will-churn" not in story.kept["tracking labels two boxes ticked"]


def test_will_churn_label_set_once_every_box_is_ticked(story: World) -> None:
    assert "lifecycle::will-churn" in story.issue("tracking", SLUG)["labels"]


def test_triage_resolved_is_accepted_after_will_churn(story: World) -> None:
    assert story.issue("triage", SLUG)["state"] == "closed"


def test_no_refusal_asking_for_what_was_just_done(story: World) -> None:
    refusals = [n for n in story.bot_notes("triage", SLUG) if "resolve-refused" in n]
    assert not refusals, refusals[0]


def test_closing_note_states_the_health_and_since_when(story: World) -> None:
    note = _closing_note(story)
    assert "red" in note and "2026-11-02" in note, note


def test_closing_note_states_days_in_triage(story: World) -> None:
    assert "16 days" in _closing_note(story)  # 2026-11-02 to 2026-11-18


def test_closing_note_quotes_the_last_person_update(story: World) -> None:
    assert "no renewal budget for 2027" in _closing_note(story)


def test_no_new_triage_issue_once_concluded_lost(story: World) -> None:
    # Handbook 002 "Will Churn": the conclusion is that the customer is lost; the bot
    # does not open a second triage issue mentioning the red-rating people again.
    assert story.issue("triage", SLUG)["iid"] == story.kept["triage iid at close"]


def test_no_at_risk_reminder_after_the_conclusion(story: World) -> None:
    assert story.bot_notes("triage", SLUG) == story.kept["triage notes at close"]


def test_report_no_longer_lists_the_lost_account_in_triage(story: World) -> None:
    assert "No account is in triage" in story.reports[date(2026, 11, 18)]


def test_closed_triage_description_unchanged_after_close(story: World) -> None:
    assert story.description("triage", SLUG) == story.kept["triage at close"]


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_no_stale_health_note_once_concluded_lost(story: World) -> None:
    # Handbook 002 "Will Churn": a lost customer's health is not refreshed by anyone;
    # a note asking for it every cadence would be noise (the sentiment dates from
    # 2026-10-30, so without the rule a note would come on 2026-11-29).
    stale = [n for n in story.bot_notes("tracking", SLUG) if "has not changed since" in n]
    assert stale == []


def test_card_says_once_why_no_stale_health_note_comes(story: World) -> None:
    card = story.description("tracking", SLUG)
    assert card.count("the customer is lost") == 1, card
