"""Every write of the daily run says why: a rewrite of a bot text names what changed in
the reader's words (services/changed_parts.py), a date rule saying so, and every other
write names its cause (README "Triage")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm.services.changed_parts import changed_names
from gl_csm.services.triage import generated
from gl_csm.services.triage.run import plan_triage
from tests.services.triage_world import World

GOLDEN_PLANS = Path(__file__).parents[1] / "golden" / "files" / "bot" / "plans"

#: The rewrites of a bot-written text: each must be followed by what changed.
REWRITES = (
    "refresh the account card",
    "bring the bot's part of the description up to date with the account",
    "bring the bot's part of the description up to date",
)

#: Each kind of write the daily triage plans, with its cause in its words. A new kind of
#: write fails here until its detail is added: it must say why.
KNOWN = tuple(
    re.compile(p)
    for p in (
        r"^'[^']*' with labels ",  # a new account: its tracking issue
        r"^'[^']*' due \S+, assigned to ",  # a reminder falls due (its rule's window)
        r"^'[^']*' \(confidential, severity \w+\)",  # an escalation asked for
        r"^'[^']*', mentioning ",  # a triage issue: the account needs triage
        r"^'[^']*' \S+ \.\. \S+ \(fiscal quarter of the renewal\)",
        r"^append \d+ changed account\(s\) of ",
        r"^\w+::resolved was set by a person",
        r"^\w+::resolved on a still-red account: refused",
        r"^account no longer red: ",
        r"^health back to green: ",
        r"^closing note with ",
        r"^end of onboarding ",
        r"^\w+ escalation: update due every [\w ]+ \(cadence\.escalation_update_days\.\w+\)",
        r"^link the (escalation|issues) opened in this run",
        r"^(weekly|monthly) at-risk update due \(cadence\.at_risk_update_days\.\w+\)",
        r"^\w+ account, sentiment unchanged since \S+, past cadence\.stale_health_days",
        r"^[\w -]+ re-dated to \S+ \(the [\w ]+ is now ",
        r"^[\w -]+ no longer applies: ",
        r"^(add |remove |due date |milestone |refresh |bring )",
    )
)

#: A name that says nothing of the cause: the namer's own fallbacks.
VAGUE = ("the text", "the introduction", "the hidden data", "table")


def _details(plan_text: str) -> list[tuple[str, str]]:
    out = []
    for line in plan_text.splitlines()[1:]:
        action, rest = line.split(None, 1)
        # "  ACTION  TARGET: DETAIL" (plan.Change.to_text): no target holds ": ".
        out.append((action, rest.split(": ", 1)[1].removesuffix(" [customer-visible]")))
    return out


def _check_detail(detail: str) -> None:
    assert any(p.search(detail) for p in KNOWN), f"a write without a known cause: {detail!r}"
    for part in detail.split("; "):
        for rewrite in REWRITES:
            if part.startswith(rewrite):
                names = part[len(rewrite) :]
                assert names.startswith(": ") and len(names) > 2, f"no cause named: {detail!r}"
                for name in names[2:].split(", "):
                    assert name not in VAGUE, f"a vague cause in {detail!r}"
                break


@pytest.mark.parametrize("day", ["triage-day1", "triage-day2", "triage-day3", "triage-day4"])
def test_every_write_of_the_golden_triage_names_its_cause(day: str) -> None:
    for _action, detail in _details((GOLDEN_PLANS / f"{day}.txt").read_text()):
        _check_detail(detail)


def _card_detail(world: World, today: date, slug: str) -> str:
    run = plan_triage(world.gateway, world.settings, today)
    [change] = [c for c in run.plan.changes if f"tracking issue of {slug}" in c.target]
    return change.detail


def test_a_logged_call_names_the_meeting_cadence_not_the_usage(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme", engagement={"last_call": date(2026, 10, 1), "contacts": 5})
    world.run()
    world.add("acme", engagement={"last_call": date(2026, 11, 20), "contacts": 5})
    detail = _card_detail(world, world.today, "acme")
    assert detail.startswith("refresh the account card: meeting cadence")
    for usage in ("use", "user engagement", "license utilization", "(time passed)"):
        assert usage not in detail, detail
    # ...and every write of that run names its cause.
    for change in plan_triage(world.gateway, world.settings, world.today).plan.changes:
        _check_detail(change.detail)


def test_a_refresh_only_the_days_passing_made_says_so(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme")
    world.run()
    later = world.today + timedelta(days=40)
    names = _card_detail(world, later, "acme").split(": ", 1)[1].split(", ")
    assert names
    dated = re.compile(
        r"turned \w+$|\(time passed\)$|went stale$| date$|^the health (score|history)$|^\d+ more$"
    )
    assert all(dated.search(n) for n in names), names
    assert "license utilization (time passed)" in names
    assert "user engagement went stale" in names


def test_a_reminder_refresh_names_the_fact_that_changed() -> None:
    def brief(arr: str, risk: str) -> str:
        return (
            f"{generated.BEGIN}\n## Executive Business Review: Acme (due 2027-03-01)\n\n"
            "### Executive brief (internal)\n\n| | |\n|---|---|\n"
            f"| ARR | {arr} |\n| Renewal date | 2027-08-31 |\n\n"
            f"Open risks:\n- {risk}\n\nTracking issue: x\n{generated.END}"
        )

    old = brief("$310,000", "Support is yellow (7 tickets in the last 30 days)")
    new = brief("$350,000", "Support is yellow (7 tickets in the last 30 days)")
    assert generated.why("up to date", old, new) == "up to date: ARR"
    aged = brief("$310,000", "Meeting cadence is yellow (47 days since the last call)")
    was = brief("$310,000", "Meeting cadence is yellow (36 days since the last call)")
    assert generated.why("up to date", was, aged) == "up to date: meeting cadence (time passed)"


def test_names_come_in_the_text_order_the_cause_first_and_a_long_list_is_cut() -> None:
    old = "### Health: green (score 90)\n\n- **Seats:** 80\n- **ARR:** $1\n\nHistory: x."
    new = "### Health: green (score 70)\n\n- **Seats:** 90\n- **ARR:** $2\n\nHistory: y."
    assert changed_names(old, new) == ["seats", "ARR", "the health score", "the health history"]
    assert changed_names(old, new, most=2) == ["seats", "3 more"]
    assert changed_names(old, old) == []


def test_every_key_of_the_cards_hidden_data_has_its_words() -> None:
    from gl_csm.services.changed_parts import DATA_WORDS
    from gl_csm.services.collaboration.team_sync import PASSAGE_KEY, TEAM_KEY
    from gl_csm.services.lookup import ISSUES_KEY
    from gl_csm.services.tracking import NOTES_KEY
    from gl_csm.services.triage import evidence, past_issues

    keys = {PASSAGE_KEY, TEAM_KEY, ISSUES_KEY, NOTES_KEY, evidence.KEY, evidence.PROMOTE_KEY}
    keys |= {past_issues.RECORD_KEY, past_issues.SEEN_KEY, past_issues.CHECKLIST_KEY}
    assert keys <= set(DATA_WORDS), keys - set(DATA_WORDS)
    assert changed_names(
        '<!-- gl-csm-data {"team":"a"} -->', '<!-- gl-csm-data {"team":"b"} -->'
    ) == ["the recorded team"]


def test_a_card_rewrite_with_nothing_visible_changed_still_says_why() -> None:
    from gl_csm.services.tracking import CARD_BEGIN, CARD_END, card_change

    card = f"{CARD_BEGIN}\n## Acme\n\n- **Seats:** 9\n{CARD_END}\n"
    assert card_change(card, card, pending=False) == (
        "refresh the account card: a new gl-csm version or card template"
    )
    assert card_change("a person's text", card, pending=False) == (
        "refresh the account card: the card, whose markers were gone"
    )
    more = card.replace("9", "10")
    assert card_change(card, more, pending=True) == (
        "refresh the account card: seats, the issues opened in this run"
    )
