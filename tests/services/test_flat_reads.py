"""The daily run's reads stay flat as the portfolio ages: it lists the accounts
project's open issues only, and knows its closed reminders from what the cards record
(services/triage/past_issues.py). Call counts, never wall time."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.services.tracking import card_data
from gl_csm.services.triage.bot_issues import latest_posted
from tests.services.triage_world import ACCOUNTS, RED, TRIAGE, World

START = date(2026, 11, 23)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _reminders(world: World) -> list[dict]:
    return [
        i
        for i in world.issues(ACCOUNTS)
        if any(kind == "reminder" for kind, _ in markers.markers_in(i.get("description")))
    ]


def _close_open_reminders(world: World) -> int:
    """A CSM finishes every open reminder (closes it), as people do."""
    person = world.person()
    closed = 0
    for issue in _reminders(world):
        if issue["state"] == "opened":
            person.update_issue(ACCOUNTS, issue["iid"], state_event="close")
            closed += 1
    return closed


def test_a_year_of_closed_reminders_neither_reopened_nor_recreated_and_reads_flat(
    world: World,
) -> None:
    """A year moved forward two weeks at a time, every reminder closed as soon as it is
    made: no closed reminder is reopened or made twice although the daily listing no
    longer holds them, and the no-op rerun reads the same in week 52 as in week 1,
    within ceil(N/100) x 3 + 7 (the post-sales group's closed milestones: one page)."""
    n = 40
    for i in range(n):
        # Renewals spread over the year: renewal reviews and EBRs fall due all along.
        world.add(f"acct-{i:02d}", renewal_date=START + timedelta(days=40 + 9 * i))
    noop_reads = []
    closed_total = 0
    for week in range(0, 53, 2):
        today = START + timedelta(weeks=week)
        outcome, _, _ = world.run(today)
        assert outcome.exit_code == 0, outcome.failures
        closed_total += _close_open_reminders(world)
        # The next day's run after people closed them: the cards record them.
        world.run(today + timedelta(days=1))
        outcome, _, stats = world.run(today + timedelta(days=1))
        assert stats.writes == 0, [c.to_text() for c in outcome.changes]
        assert stats.reads <= math.ceil(n / 100) * 3 + 7
        noop_reads.append(stats.reads)
    reminders = _reminders(world)
    assert closed_total >= n  # the year really made (and closed) reminders
    keys = Counter(
        key
        for i in reminders
        for kind, key in markers.markers_in(i["description"])
        if kind == "reminder"
    )
    assert [k for k, c in keys.items() if c > 1] == []  # none made twice
    assert all(i["state"] == "closed" for i in reminders)  # none reopened
    assert max(noop_reads) == noop_reads[0], noop_reads


def test_a_closed_reminder_still_due_is_proven_once_then_read_no_more(world: World) -> None:
    """A renewal review closed by its CSM while its stage is still due: the first run
    after proves it closed (the account's recorded issues), records it in the card, and
    the next runs read nothing for it and create nothing."""
    world.add("acme-corp", renewal_date=START + timedelta(days=60))
    outcome, _, _ = world.run(START)
    assert outcome.exit_code == 0
    assert _close_open_reminders(world) >= 1
    quiet_before = world.run(START)[2]
    outcome, _, stats = world.run(START + timedelta(days=3))
    assert not [c for c in outcome.changes if c.action == "create-issue"]
    outcome, _, stats = world.run(START + timedelta(days=3))
    assert stats.writes == 0
    assert stats.reads <= quiet_before.reads
    assert len(_reminders(world)) == len({i["iid"] for i in _reminders(world)})


def test_the_daily_listing_holds_open_issues_only(world: World) -> None:
    """The accounts project is listed with state=opened: its closed reminders are not
    re-read every day (the request log of the sandbox)."""
    world.add("acme-corp", renewal_date=START + timedelta(days=60))
    world.run(START)
    _close_open_reminders(world)
    world.run(START + timedelta(days=1))
    seen: list[str] = []
    original = world.gateway.issues

    def spy(project, **query):  # type: ignore[no-untyped-def]
        seen.append(f"{project} {query.get('state')}")
        return original(project, **query)

    world.gateway.issues = spy  # type: ignore[method-assign]
    world.run(START + timedelta(days=1))
    assert f"{ACCOUNTS} opened" in seen
    assert f"{ACCOUNTS} all" not in seen and f"{ACCOUNTS} closed" not in seen


def _tracking(world: World) -> list[dict]:
    return [i for i in world.issues(ACCOUNTS) if markers.own_key(i, "tracking") == "acme-corp"]


@pytest.mark.parametrize("drop_segment", [False, True])
def test_a_closed_tracking_issue_is_not_made_twice(world: World, drop_segment: bool) -> None:
    """A tracking issue a person closed is gone from the daily listing: it is found
    among the closed issues of its segment label, or, when the label was removed too,
    among every closed issue, before a tracking issue would be created. Never reopened."""
    world.add("acme-corp")
    world.run(START)
    (issue,) = _tracking(world)
    fields: dict = {"state_event": "close"}
    if drop_segment:
        fields["remove_labels"] = ",".join(
            label for label in issue["labels"] if label.startswith("segment::")
        )
    world.person().update_issue(ACCOUNTS, issue["iid"], **fields)
    outcome, _, _ = world.run(START + timedelta(days=1))
    assert outcome.exit_code == 0
    assert not [c for c in outcome.changes if c.action == "create-issue" and "tracking" in c.target]
    (after,) = _tracking(world)
    assert after["iid"] == issue["iid"] and after["state"] == "closed"


def test_posted_keys_keep_the_recent_periods_of_each_kind() -> None:
    assert latest_posted(
        {
            "red",
            "escalation-opened:2026-11-23",
            "at-risk-update:2026-06-30",
            "at-risk-update:2026-11-30",
            "at-risk-update:2026-12-07",
            "escalation-update:2026-08-29",
            "escalation-update:2026-12-13",
        }
    ) == {
        "red",
        "escalation-opened:2026-11-23",
        "at-risk-update:2026-11-30",
        "at-risk-update:2026-12-07",
        "escalation-update:2026-12-13",
    }


def test_a_card_a_year_in_triage_does_not_grow_with_the_updates_missed(world: World) -> None:
    """An account red for half a year, nobody writing an update: a weekly at-risk reminder is
    posted every period (each once), and its card records those of the last 92 days."""
    world.add("acme-corp", **RED)
    sizes = []
    for week in range(0, 27, 2):
        outcome, _, _ = world.run(START + timedelta(weeks=week))
        assert outcome.exit_code == 0
        (card,) = _tracking(world)
        sizes.append(
            len(card_data(card["description"]).get("notes", {}).get("triage", {}).get("posted", []))
        )
    # Each update reminder still posted once per period (the notes say so).
    (triage,) = [i for i in world.issues(TRIAGE) if markers.own_key(i, "triage") == "acme-corp"]
    keys = [k for n in world.notes(TRIAGE, triage["iid"]) for _, k in markers.markers_in(n["body"])]
    assert len(keys) == len(set(keys)) and sum("at-risk-update" in k for k in keys) >= 6
    # The card keeps the updates of the last 92 days, not one for every period posted.
    posted = sum("at-risk-update" in k for k in keys)
    assert sizes[-1] <= 92 // 7 + 1 and sizes[-1] < posted, (sizes, posted)
