"""Red -> critical escalation -> won back. The CSM turns a healthy customer red on the
tracking issue, records the risk, asks for an escalation and sets it critical; updates
are posted, then missed for days; the customer is won back, the triage and escalation
are resolved by people (SPEC 5 Triage, 5.0, 5.1, 5.2; handbook 002)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import ESCALATION_CONTACTS, RED_NORAM, World

SLUG = "initrode"
LAST_UPDATE = "Customer signed the renewal plan; the new CI runners are live in production."


def tell(w: World) -> None:
    def risk() -> None:
        w.edit(
            SLUG,
            "the CSM records the risk",
            sentiment={"health": "red", "needs_triage": True, "updated": date(2026, 11, 5)},
            risk={
                "contraction": True,
                "types": ["product-usage", "competitive"],
                "reasons": ["lack-of-adoption"],
                "impacts": ["seat-churn"],
            },
        )
        w.comment(
            "alice",
            "triage",
            SLUG,
            "At-risk update: the platform team is trialling a competitor's CI; meeting "
            "their director on Friday.",
        )

    def escalate() -> None:
        w.label("alice", "tracking", SLUG, add=["escalation::requested"])
        w.label(
            "noram-mgr",
            "escalation",
            SLUG,
            add=["escalation-severity::critical"],
            remove=["escalation-severity::high"],
        )

    def won_back() -> None:
        w.edit(
            SLUG,
            "the CSM records the win-back",
            sentiment={"health": "green", "needs_triage": False, "updated": date(2026, 11, 18)},
            risk=None,
        )
        w.comment("alice", "triage", SLUG, LAST_UPDATE)
        w.label("alice", "tracking", SLUG, add=["sentiment::green"], remove=["sentiment::red"])

    def resolve() -> None:
        w.label("alice", "triage", SLUG, add=["triage::resolved"])
        w.label("alice", "escalation", SLUG, add=["escalation::resolved"])
        # Before the day's scheduled triage: the label's reaction closed it.
        w.kept["escalation state after react"] = w.issue("escalation", SLUG)["state"]
        w.kept["triage at close"] = w.description("triage", SLUG)
        w.kept["escalation at close"] = w.description("escalation", SLUG)

    w.run_days(
        date(2026, 11, 2),
        date(2026, 11, 30),
        {
            date(2026, 11, 4): lambda: w.label(
                "alice", "tracking", SLUG, add=["sentiment::red"], remove=["sentiment::green"]
            ),
            date(2026, 11, 5): risk,
            date(2026, 11, 6): escalate,
            date(2026, 11, 9): lambda: w.comment(
                "alice", "escalation", SLUG, "Escalation update: Support reproduced the runner bug."
            ),
            date(2026, 11, 13): lambda: w.comment(
                "alice", "escalation", SLUG, "Escalation update: fix deployed, customer testing."
            ),
            date(2026, 11, 18): won_back,
            date(2026, 11, 23): resolve,
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "Red, a critical escalation, won back (Initrode, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: customer("Initrode", renewal_date=date(2027, 3, 31), arr=420000)},
    )
    tell(w)
    return w


def _link(w: World, kind: str) -> str:
    """The path of the issue's URL (links are compared without the host)."""
    issue = w.issue(kind, SLUG)
    assert issue is not None, f"no {kind} issue"
    return "/" + issue["web_url"].split("/", 3)[3]


def _closing_note(w: World) -> str:
    notes = w.bot_notes("triage", SLUG)
    return notes[-1] if notes else ""


def _escalation_closing_note(w: World) -> str:
    notes = w.bot_notes("escalation", SLUG)
    return notes[-1] if notes else ""


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_triage_issue_mentions_the_red_list(story: World) -> None:
    assert set(RED_NORAM) <= set(story.mentioned("triage", SLUG))


def test_escalation_is_opened_confidential(story: World) -> None:
    assert story.issue("escalation", SLUG)["confidential"] is True


def test_config_accepts_escalation_contacts(story: World) -> None:
    assert story.config_refused is None, story.config_refused


def test_escalation_mentions_manager_director_and_vp(story: World) -> None:
    told = set(story.mentioned("escalation", SLUG))
    assert {"noram-mgr", "noram-dir", "vp-cs"} <= told, told


def test_escalation_mentions_the_red_list(story: World) -> None:
    told = set(story.mentioned("escalation", SLUG))
    assert set(RED_NORAM) <= told, set(RED_NORAM) - told


def test_escalation_mentions_product_and_support_contacts(story: World) -> None:
    told = set(story.mentioned("escalation", SLUG))
    assert set(ESCALATION_CONTACTS.values()) <= told, told


def test_triage_issue_links_the_escalation(story: World) -> None:
    url = _link(story, "escalation")
    texts = [story.description("triage", SLUG), *story.notes("triage", SLUG)]
    assert any(url in t for t in texts)


def test_escalation_links_the_triage_issue(story: World) -> None:
    assert _link(story, "triage") in story.description("escalation", SLUG)


def test_escalation_reminder_says_how_many_updates_were_missed(story: World) -> None:
    reminders = [n for n in story.bot_notes("escalation", SLUG) if "update" in n.lower()]
    assert any("missed" in n for n in reminders), reminders[-1:] or "no reminder"


def test_manager_told_after_two_missed_updates(story: World) -> None:
    assert "noram-mgr" in story.mentioned("escalation", SLUG, source="note")


def test_exit_proposed_when_back_to_green(story: World) -> None:
    assert any("exit" in n.lower() for n in story.bot_notes("triage", SLUG))


def test_risk_types_kept_on_the_triage_issue_after_recovery(story: World) -> None:
    text = story.kept.get("triage at close", "")
    assert "product-usage" in text and "not recorded yet" not in text


def test_risk_labels_kept_on_the_triage_issue_after_recovery(story: World) -> None:
    assert "risk-type::product-usage" in story.issue("triage", SLUG)["labels"]


def test_health_reason_not_rewritten_to_needs_triage(story: World) -> None:
    assert "the account needs triage" not in story.kept.get("triage at close", "")


def test_escalation_never_says_a_green_account_needs_assistance(story: World) -> None:
    text = story.kept.get("escalation at close", "")
    assert not re.search(r"\*\*green\*\*.*?further\s+assistance", text, re.DOTALL)


def test_triage_issue_closed_by_triage_resolved(story: World) -> None:
    assert story.issue("triage", SLUG)["state"] == "closed"


def test_escalation_closed_by_escalation_resolved(story: World) -> None:
    assert story.issue("escalation", SLUG)["state"] == "closed"


def test_escalation_closed_at_once_by_the_reaction(story: World) -> None:
    assert story.kept.get("escalation state after react") == "closed"


def test_closed_triage_description_unchanged_after_close(story: World) -> None:
    assert story.description("triage", SLUG) == story.kept["triage at close"]


def test_closed_escalation_description_unchanged_after_close(story: World) -> None:
    assert story.description("escalation", SLUG) == story.kept["escalation at close"]


def test_closing_note_states_health_before_and_after(story: World) -> None:
    note = _closing_note(story)
    assert "red" in note and "green" in note, note


def test_closing_note_states_the_sentiment_value(story: World) -> None:
    assert re.search(r"sentiment[^\n]*\b(red|green)\b", _closing_note(story), re.IGNORECASE)


def test_closing_note_states_days_in_triage(story: World) -> None:
    assert "19 days" in _closing_note(story)  # 2026-11-04 to 2026-11-23


def test_closing_note_quotes_the_last_person_update(story: World) -> None:
    assert LAST_UPDATE in _closing_note(story)


def test_closing_note_does_not_point_to_a_missing_update(story: World) -> None:
    assert "see the last at-risk update above" not in _closing_note(story)


def test_red_list_told_of_the_resolution(story: World) -> None:
    note = _closing_note(story)
    missing = [n for n in RED_NORAM if f"@{n}" not in note]
    assert not missing, missing


def test_escalation_closure_links_the_triage_issue(story: World) -> None:
    assert _link(story, "triage") in _escalation_closing_note(story)
    # The link text the bot wrote ("Account triage: Initrode #1") stays as written.
    assert "Initrode #1](" in _escalation_closing_note(story)


def test_escalation_closure_names_dris_or_says_none(story: World) -> None:
    note = _escalation_closing_note(story).lower()
    assert "dri" in note, note


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_first_renewal_review_seen_late_claims_no_earlier_review(story: World) -> None:
    review = story.description("reminder", f"{SLUG}:renewal-review:2027-03-31:5")
    assert "had passed when the bot scheduled it" in review
    assert "earlier review" not in review, review


def test_closing_note_names_the_person_who_wrote_the_last_update(story: World) -> None:
    closing = [n for n in story.bot_notes("triage", SLUG) if "Closing:" in n]
    assert len(closing) == 1 and "by alice on 2026-11-18" in closing[0], closing


def test_escalation_reminders_say_which_missed_update_they_are(story: World) -> None:
    reminders = [n for n in story.bot_notes("escalation", SLUG) if "escalation update due" in n]
    visible = [r.split("-->", 1)[-1] for r in reminders]
    assert len(reminders) >= 2 and len(set(visible)) == len(visible)
    assert any("2 updates missed since" in v for v in visible), visible


def test_escalation_update_due_today_is_not_counted_as_missed(story: World) -> None:
    # SPEC 5.0: an update is missed once its due day has passed without a person's note.
    reminders = [n for n in story.bot_notes("escalation", SLUG) if "escalation update due" in n]
    assert "an update is due today" in reminders[0].split("-->", 1)[-1], reminders[0]


def test_manager_mentioned_once_per_run_of_missed_updates(story: World) -> None:
    # A daily cadence must not mention the manager every day: once when the second
    # update is missed, then the reminders say when the manager was told.
    reminders = [n for n in story.bot_notes("escalation", SLUG) if "escalation update due" in n]
    mentioning = [n for n in reminders if "@noram-mgr" in n]
    told = [n for n in reminders if "regional CSM manager was told on" in n]
    assert len(mentioning) == 2 and all("2 escalation updates in a row" in n for n in mentioning)
    assert told and all("@noram-mgr" not in n for n in told), told
