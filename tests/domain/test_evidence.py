"""Evidence from the collaboration projects and time to value (SPEC 4.1, handbook 004)."""

from __future__ import annotations

from datetime import date

import pytest

from gl_csm.domain import evidence as ev
from tests.domain.factories import account

D = date.fromisoformat
TODAY = D("2026-11-23")  # a Monday


def _issue(iid: int, **keys: object) -> dict:
    base = {
        "iid": iid,
        "title": f"Issue {iid}",
        "state": "opened",
        "labels": [],
        "author": {"username": "hans"},
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
        "user_notes_count": 0,
        "references": {"full": f"cust/acme#{iid}"},
    }
    base.update(keys)
    return base


TEAM = ["alice", "bob"]


def test_meeting_dates_last_first_and_ahead() -> None:
    issues = [
        _issue(1, title="Kick-off - 2026-11-02", labels=["meeting"], author={"username": "alice"}),
        _issue(2, title="Check-in", due_date="2026-11-16", labels=["meeting"]),
        _issue(3, title="Review - 2026-11-30", labels=["meeting"]),
        _issue(4, title="Today - 2026-11-23", labels=["meeting"]),  # not passed yet
    ]
    e = ev.fold(ev.Evidence(), issues, team=TEAM, today=TODAY)
    assert e.last_call == (D("2026-11-16"), "cust/acme#2")
    assert e.first_call == (D("2026-11-02"), "cust/acme#1")
    assert dict(e.upcoming) == {"cust/acme#3": D("2026-11-30"), "cust/acme#4": TODAY}
    assert not e.watch  # meeting agendas wait for no answer
    later = ev.fold(e, [], team=TEAM, today=D("2026-12-01"))
    assert later.last_call == (D("2026-11-30"), "cust/acme#3") and not later.upcoming


@pytest.mark.parametrize(
    ("state", "description", "closed_at", "done"),
    [
        ("closed", "- [ ] a", "2026-11-21T08:00:00Z", D("2026-11-21")),
        ("opened", "- [x] a\n- [X] b", None, D("2026-11-20")),
        ("opened", "- [x] a\n- [ ] b", None, None),
        ("opened", "no boxes", None, None),
    ],
)
def test_onboarding_checklist_done(
    state: str, description: str, closed_at: str | None, done: date | None
) -> None:
    issue = _issue(
        5,
        title="Onboarding checklist",
        state=state,
        description="<!-- gl-csm:project-issue:acme/onboarding-checklist -->\n" + description,
        closed_at=closed_at,
    )
    e = ev.fold(ev.Evidence(), [issue], team=TEAM, today=TODAY)
    assert (e.onboarding[0] if e.onboarding else None) == done
    assert not e.watch  # a bot issue is nobody's question


def test_customer_issue_waits_business_days_and_is_told_once() -> None:
    opened = _issue(6, created_at="2026-11-20T16:00:00Z")  # a Friday
    mine = _issue(7, author={"username": "alice"})
    e = ev.fold(ev.Evidence(), [opened, mine], team=TEAM, today=TODAY)
    assert list(e.watch) == ["cust/acme#6"]
    assert ev.waiting(e, D("2026-11-23"), 2) == []  # Monday: one business day
    assert [w[0] for w in ev.waiting(e, D("2026-11-24"), 2)] == ["cust/acme#6"]
    told = ev.settle(e, "cust/acme#6", told=True)
    assert not told.watch and told.told == ("cust/acme#6",)
    relisted = ev.fold(told, [opened], team=TEAM, today=D("2026-11-25"))
    assert not relisted.watch  # never watched (told) again
    closed = ev.fold(told, [{**opened, "state": "closed"}], team=TEAM, today=TODAY)
    assert closed.told == ()


def test_evidence_round_trips_through_the_card_data() -> None:
    e = ev.fold(
        ev.Evidence(),
        [_issue(1, title="Call - 2026-11-02", labels=["meeting"]), _issue(2)],
        team=TEAM,
        today=TODAY,
    )
    assert ev.Evidence.from_data(e.to_data()) == e
    assert ev.Evidence.from_data({"last_call": ["bad", 3], "watch": "x"}) == ev.Evidence()


def test_apply_takes_the_newer_call_and_a_missing_onboarding_date() -> None:
    a = account(
        engagement={"last_call": D("2026-11-10")},
        customer_since=D("2026-10-01"),
        onboarding_completed=None,
    )
    e = ev.Evidence(
        last_call=(D("2026-11-16"), "cust/acme#2"), onboarding=(D("2026-11-20"), "cust/acme#5")
    )
    applied = ev.apply(a, e)
    assert applied.account.engagement.last_call == D("2026-11-16")
    assert applied.account.onboarding_completed == D("2026-11-20")
    assert [s[0] for s in applied.sources] == ["engagement.last_call", "onboarding_completed"]
    older = ev.apply(a, ev.Evidence(last_call=(D("2026-11-01"), "cust/acme#1")))
    assert older.account == a and older.sources == ()


def test_first_value_only_from_a_crossing_seen() -> None:
    new = account(customer_since=D("2026-11-01"), seats={"licensed": 400, "active": 10})
    seen = ev.with_first_value(ev.Evidence(), new, D("2026-11-10"))
    assert seen.seats_below and seen.first_value is None
    grown = account(customer_since=D("2026-11-01"), seats={"licensed": 400, "active": 40})
    crossed = ev.with_first_value(seen, grown, D("2026-12-01"))
    assert crossed.first_value == D("2026-12-01")
    ttv = {t.kpi: t for t in ev.time_to_value(grown, crossed)}
    assert ttv["First Value"].days == 30 and ttv["First Value"].text() == "2026-12-01 (30 days)"
    old = ev.with_first_value(ev.Evidence(), grown, D("2026-12-01"))
    assert old.first_value is None and old.first_value_before == D("2026-12-01")
    assert {t.kpi: t for t in ev.time_to_value(grown, old)}["First Value"].days is None


def test_ttv_summary_per_segment() -> None:
    rows = [
        ("strategic", {"Engagement": 5}),
        ("strategic", {"Engagement": 9}),
        ("strategic", {"Engagement": None}),
        ("growth", {}),  # pre-sales: no figures, not counted
    ]
    found = {(t.segment, t.kpi): t for t in ev.ttv_summary(rows)}
    engagement = found[("strategic", "Engagement")]
    assert (engagement.customers, engagement.reached, engagement.median) == (3, 2, 7.0)
    assert (engagement.p25, engagement.p75, engagement.fastest, engagement.slowest) == (
        6.0,
        8.0,
        5,
        9,
    )
    assert ("growth", "Engagement") not in found


def test_business_days() -> None:
    assert ev.business_days_between(D("2026-11-20"), D("2026-11-24")) == 2  # Fri -> Tue
    assert ev.business_days_between(D("2026-11-23"), D("2026-11-23")) == 0


def _ms(key: str, state: str, updated: str, title: str = "T") -> dict:
    return {
        "state": state,
        "title": title,
        "updated_at": f"{updated}T10:00:00Z",
        "description": f"Text.\n<!-- gl-csm:project-milestone:acme/{key} -->",
    }


@pytest.mark.parametrize(
    ("listed", "recorded"),
    [
        # handbook 004: a KPI milestone closed records its updated_at (no closed_at).
        ([_ms("infrastructure-ready", "closed", "2026-12-01")], {"infrastructure-ready"}),
        ([_ms("outcome-achieved", "closed", "2027-05-01")], {"outcome-achieved"}),
        # Still open, or no KPI of its own, or no marker: nothing.
        ([_ms("infrastructure-ready", "active", "2026-12-01")], set()),
        ([_ms("first-value", "closed", "2026-12-01")], set()),
        ([{"state": "closed", "title": "Mine", "updated_at": "2026-12-01T10:00:00Z"}], set()),
    ],
)
def test_fold_milestones(listed: list[dict], recorded: set[str]) -> None:
    folded = ev.fold_milestones(ev.Evidence(), listed)
    assert set(folded.milestones) == recorded


def test_a_milestone_is_recorded_once_with_its_title_as_source() -> None:
    first = ev.fold_milestones(
        ev.Evidence(), [_ms("infrastructure-ready", "closed", "2026-12-01", "Infra ready")]
    )
    again = ev.fold_milestones(first, [_ms("infrastructure-ready", "closed", "2027-01-09")])
    assert again is first
    ttv = {
        t.kpi: t.text() for t in ev.time_to_value(account(customer_since=D("2026-11-01")), again)
    }
    assert ttv["Infrastructure Ready"] == (
        '2026-12-01 (30 days): the milestone "Infra ready" closed'
    )
    assert ttv["Outcome Achieved"] == "not recorded yet"
