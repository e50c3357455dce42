"""`gl-csm triage` end to end against the in-process sandbox (SPEC 5, 5.0-5.2)."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Faults
from gl_csm.services.triage.run import in_shard, parse_shard, plan_triage
from tests.services.triage_world import (
    ACCOUNTS,
    ESCALATIONS,
    RED,
    RED_NORAM,
    TRIAGE,
    YELLOW_NORAM,
    YELLOW_TRIAGE,
    World,
    account_data,
)

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _tracking(world: World, slug: str) -> dict:
    found = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")
    return found[slug]


def _creates(outcome) -> list[str]:  # type: ignore[no-untyped-def]
    """What a run created (across days the card may change as data ages; that is fine)."""
    return [c.to_text() for c in outcome.changes if c.action.startswith(("create", "close"))]


def _open(world: World, project: str, kind: str) -> dict[str, dict]:
    return markers.index_by_marker(world.issues(project, state="opened"), kind)


# ---------------------------------------------------------------- tracking + idempotency


def test_first_run_labels_and_cards_then_a_rerun_writes_nothing(world: World) -> None:
    world.add("acme", "Acme")
    world.add("initech", "Initech", **RED)
    outcome, _, first = world.run()
    assert outcome.exit_code == 0, outcome.failures
    acme = _tracking(world, "acme")
    assert acme["title"] == "Acme"
    assert {"health::green", "lifecycle::adopting", "segment::strategic"} <= set(acme["labels"])
    assert any(label.startswith("priority::") for label in acme["labels"])
    assert (
        "### Priority" in acme["description"]
        and "| Product | Source code management use | green" in acme["description"]
    )
    initech = _tracking(world, "initech")
    assert "health::red" in initech["labels"] and "priority::1" in initech["labels"]
    assert "Triage: [Account triage: Initech" in initech["description"]
    assert first.writes > 0

    outcome, _, again = world.run()
    assert outcome.changes == [] and again.writes == 0


def test_a_tracking_issue_whose_file_is_gone_is_said_once_per_run(world: World) -> None:
    """An account file removed (or renamed) leaves its open tracking issue and reminders
    in every daily listing, and nothing plans them any more: the run says so, naming the
    issue and what to do, once even when sharded (the shard its slug falls in)."""
    world.add("acme", "Acme")
    world.add("initech", "Initech")
    world.run()
    (world.root / "accounts" / "initech.yml").unlink()
    iid = _tracking(world, "initech")["iid"]
    gone = [n for n in world.run()[1].plan.notes if n.startswith("warning: initech: no ")]
    assert len(gone) == 1 and f"{ACCOUNTS}#{iid} is open" in gone[0]
    assert "(initech.yml)" in gone[0] and "restore the file, or close them" in gone[0]
    said = [
        n
        for i in (1, 2, 3)
        for n in world.run(shard=(i, 3))[1].plan.notes
        if n.startswith("warning: initech:")
    ]
    assert len(said) == 1
    world.person().update_issue(ACCOUNTS, iid, state_event="close")
    assert not [n for n in world.run()[1].plan.notes if "initech" in n]


def test_people_labels_and_text_are_kept(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    issue = _tracking(world, "acme")
    person = world.person()
    person.update_issue(
        ACCOUNTS,
        issue["iid"],
        add_labels="customer-note",
        description=issue["description"] + "\nMy own notes about Acme.\n",
    )
    outcome, _, stats = world.run()
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]
    # The registry changes: the bot refreshes its part only.
    world.add("acme", "Acme", segment="growth")
    world.run()
    issue = _tracking(world, "acme")
    assert "customer-note" in issue["labels"] and "segment::growth" in issue["labels"]
    assert "segment::strategic" not in issue["labels"]
    assert issue["description"].rstrip().endswith("My own notes about Acme.")


def test_noop_rerun_reads_only_the_listings_whatever_the_number_at_risk(world: World) -> None:
    """A no-op rerun reads <= ceil(N/100) x 3 + 3 (the three internal projects
    and their listings), writes 0, however many triage and escalation issues are open:
    what the bot needs from their notes is recorded in the tracking card and read again
    only when the listing's user_notes_count changes (doc/api/issues.md)."""
    n = 250
    for i in range(n):
        keys = {}
        if i % 2 == 0:  # half the portfolio at risk, a third of it escalated
            keys = dict(RED, risk={**RED["risk"], "escalation_requested": i % 6 == 0})
        world.add(f"acct-{i:04d}", f"Account {i}", **keys)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0
    assert len(_open(world, TRIAGE, "triage")) == n // 2
    assert len(_open(world, ESCALATIONS, "escalation")) == len(range(0, n, 6))
    outcome, _, stats = world.run()
    assert stats.writes == 0 and outcome.changes == []
    # + 2: the portfolio history folder listing and its one file (services/triage/history.py);
    # + 1: the post-sales group's closed milestones (services/triage/evidence.py)
    assert stats.reads <= math.ceil(n / 100) * 3 + 3 + 2 + 1
    # The next day reminders fall due on none of them: still the listings only.
    outcome, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0 and stats.reads <= math.ceil(n / 100) * 3 + 3 + 2 + 1


def test_first_run_writes_one_request_per_object(world: World) -> None:
    """A first run sends one write per object it creates: the notes due on a
    tracking issue it creates (here the end of onboarding) go in the create."""
    world.add("newco", "New Co", customer_since=D("2026-09-20"), onboarding_completed=None)
    world.add(
        "initech", "Initech", **{**RED, "risk": {**RED["risk"], "escalation_requested": True}}
    )
    world.add("acme", "Acme", **YELLOW_TRIAGE)
    world.add("globex", "Globex")
    outcome, _, first = world.run(D("2026-11-19"))
    assert outcome.exit_code == 0, outcome.failures
    objects = sum(len(world.issues(p)) for p in (ACCOUNTS, TRIAGE, ESCALATIONS))
    objects += len(world.person().milestones(TRIAGE))
    objects += 1  # the portfolio history commit (services/triage/history.py)
    # The note on the triage issue linking the escalation opened after it (SPEC 5.0:
    # they link each other; its URL exists only once the escalation is created).
    notes = [n for i in world.issues(TRIAGE) for n in world.notes(TRIAGE, i["iid"])]
    assert [n["body"].count("escalation-opened") for n in notes] == [1]
    objects += len(notes)
    # A new tracking issue is created before the issues the run opens
    # (they link it), then its card links them: one more write per such account.
    links = [c for c in outcome.changes if "link the issues opened in this run" in c.detail]
    assert {c.account for c in links} == {"initech", "acme"}
    assert first.writes == objects + len(links)
    assert len(outcome.changes) == objects + len(links)  # one change per request
    newco = _tracking(world, "newco")
    assert world.notes(ACCOUNTS, newco["iid"]) == []
    assert "onboarding of **New Co** ended on" in newco["description"]
    assert "@alice" in newco["description"]
    outcome, _, again = world.run(D("2026-11-19"))
    assert again.writes == 0, [c.to_text() for c in outcome.changes]
    # Recorded as posted: never sent again as a note.
    world.run(D("2026-11-27"))
    assert [n for n in world.notes(ACCOUNTS, newco["iid"]) if not n["system"]] == []


def test_a_persons_note_rereads_only_that_issues_notes(world: World) -> None:
    """The notes of an open issue are read again only when its user_notes_count moved;
    the card then records the new facts (one write) and the next run reads none."""
    for slug in ("initech", "hooli", "umbrella"):
        world.add(slug, slug.title(), **RED)
    world.run()
    _, _, quiet = world.run()
    assert quiet.writes == 0
    issue = _open(world, TRIAGE, "triage")["hooli"]
    world.person().gl.http_post(
        f"/projects/{TRIAGE.replace('/', '%2F')}/issues/{issue['iid']}/notes",
        post_data={"body": "At-risk update: call booked."},
    )
    outcome, _, stats = world.run()
    assert stats.reads == quiet.reads + 1  # hooli's notes, nobody else's
    assert [c.target for c in outcome.changes] == [
        f"{ACCOUNTS}#{_tracking(world, 'hooli')['iid']} (tracking issue of hooli)"
    ]
    assert '"last":"2026-11-23"' in _tracking(world, "hooli")["description"]
    _, _, stats = world.run()
    assert (stats.reads, stats.writes) == (quiet.reads, 0)


# ---------------------------------------------------------------- triage issue + mentions


def test_red_account_gets_one_triage_issue_with_everything(world: World) -> None:
    world.add("initech", "Initech", renewal_date=D("2027-05-20"), **RED)
    world.run()
    issues = world.issues(TRIAGE)
    assert len(issues) == 1
    issue = issues[0]
    assert markers.has_marker(issue["description"], "triage", "initech")
    desc = issue["description"]
    for text in (
        "$300,000",
        "2027-05-20",
        "Why this account is in triage",
        "Override: red CSM sentiment makes the account red",
        "Cost/Budget",
        "Do you know how to regularly prune inactive users?",
        "Explore cloud provider retiring spend",
        "ROI (the customer",
        "Brief, high-level summary",
        "cost-budget, roi",
    ):
        assert text in desc, text
    assert {
        "triage::open",
        "risk-type::cost-budget",
        "risk-reason::loss-of-budget",
        "risk-impact::seat-churn",
    } <= set(issue["labels"])
    assert issue["milestone"]["title"] == "FY2028-Q2"
    # Renewal in FY2028-Q2, today in FY2027-Q4: monthly at-risk updates.
    assert issue["due_date"] == "2026-12-23"
    assert [a["username"] for a in issue["assignees"]] == ["alice"]


def test_mentions_yellow_vs_red(world: World) -> None:
    world.add("yellowco", "Yellow Co", **YELLOW_TRIAGE)
    world.add("redco", "Red Co", **RED)
    world.run()
    found = _open(world, TRIAGE, "triage")
    assert world.mentioned(TRIAGE, found["yellowco"]["iid"]) == YELLOW_NORAM
    assert world.mentioned(TRIAGE, found["redco"]["iid"]) == RED_NORAM


def test_mentions_public_sector(world: World) -> None:
    world.add("franklin", "Franklin", region="PUBSEC", public_sector=True, **YELLOW_TRIAGE)
    world.add("franklin-red", "Franklin Red", region="PUBSEC", public_sector=True, **RED)
    world.run()
    found = _open(world, TRIAGE, "triage")
    assert world.mentioned(TRIAGE, found["franklin"]["iid"]) == {
        "carol",
        "bob",
        "pubsec-mgr",
        "ps-director",
    }
    assert world.mentioned(TRIAGE, found["franklin-red"]["iid"]) == {
        "carol",
        "bob",
        "pubsec-mgr",
        "ps-director",
        "pubsec-asm",
        "pubsec-rd",
        "vp-cs",
    }


def test_turning_red_notifies_the_red_people_once(world: World) -> None:
    world.add("acme", "Acme", **YELLOW_TRIAGE)
    world.run()
    iid = _open(world, TRIAGE, "triage")["acme"]["iid"]
    world.add("acme", "Acme", **RED)
    world.run(D("2026-11-24"))
    assert world.mentioned(TRIAGE, iid, "note") >= {"noram-asm", "noram-rd", "vp-cs"}
    outcome, _, stats = world.run()
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]


def test_worsening_from_green_tells_the_yellow_then_the_red_people_once(world: World) -> None:
    # SPEC 5.1: a triage issue opened while green (the CSM asked) mentions nobody; when
    # the account turns yellow the yellow people are told, when red the rest of red.
    world.add("acme", "Acme")
    world.run()
    tracking_iid = _tracking(world, "acme")["iid"]
    world.person().update_issue(ACCOUNTS, tracking_iid, add_labels="triage::needed")
    world.run()
    iid = _open(world, TRIAGE, "triage")["acme"]["iid"]
    assert world.mentioned(TRIAGE, iid) == set()
    world.person().update_issue(ACCOUNTS, tracking_iid, add_labels="sentiment::yellow")
    world.run(D("2026-11-24"))
    assert world.mentioned(TRIAGE, iid, "note") == YELLOW_NORAM
    world.person().update_issue(ACCOUNTS, tracking_iid, add_labels="sentiment::red")
    world.run(D("2026-11-25"))
    assert world.mentioned(TRIAGE, iid, "note") == RED_NORAM
    outcome, _, stats = world.run()
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]


def test_triage_label_on_the_tracking_issue_is_an_input(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    assert _open(world, TRIAGE, "triage") == {}
    world.person().update_issue(
        ACCOUNTS, _tracking(world, "acme")["iid"], add_labels="triage::needed"
    )
    world.run()
    assert "acme" in _open(world, TRIAGE, "triage")


def test_sentiment_label_is_an_input(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    world.person().update_issue(
        ACCOUNTS, _tracking(world, "acme")["iid"], add_labels="sentiment::red"
    )
    world.run()
    issue = _tracking(world, "acme")
    assert "health::red" in issue["labels"] and "sentiment::red" in issue["labels"]
    assert "acme" in _open(world, TRIAGE, "triage")


def test_one_triage_issue_per_account_across_reruns(world: World) -> None:
    world.add("initech", "Initech", **RED)
    for day in range(0, 40, 3):
        outcome, _, _ = world.run(D("2026-11-23") + timedelta(days=day))
        assert outcome.exit_code == 0
    assert len(world.issues(TRIAGE)) == 1


# ---------------------------------------------------------------- at-risk updates


def test_at_risk_reminders_monthly_then_weekly_across_the_fiscal_quarter(world: World) -> None:
    """Renewal in FY2028-Q2 (May): monthly in FY2027-Q4, weekly from FY2028-Q1 (Feb)."""
    world.add("initech", "Initech", renewal_date=D("2027-05-15"), **RED)
    world.run(D("2027-01-20"))
    issue = _open(world, TRIAGE, "triage")["initech"]
    assert issue["due_date"] == "2027-02-19"  # monthly
    outcome, _, _ = world.run(D("2027-01-31"))  # last day of FY2027-Q4: still monthly
    assert _creates(outcome) == []
    world.run(D("2027-02-01"))  # FY2028-Q1: the renewal is next quarter -> weekly
    issue = _open(world, TRIAGE, "triage")["initech"]
    assert issue["due_date"] == "2027-01-27"
    reminders = [
        n
        for n in world.notes(TRIAGE, issue["iid"])
        if "at-risk-update:2027-01-27" in (n["body"] or "")
    ]
    assert len(reminders) == 1
    assert "@alice" in reminders[0]["body"] and "Brief, high-level summary" in reminders[0]["body"]
    _, _, stats = world.run(D("2027-02-01"))
    assert stats.writes == 0
    # A person posts an update: the clock restarts, nothing is due.
    world.person().gl.http_post(
        f"/projects/{TRIAGE.replace('/', '%2F')}/issues/{issue['iid']}/notes",
        post_data={"body": "At-risk update: EB call Friday."},
    )
    world.run(D("2027-02-03"))  # the person's note is of 2027-02-01
    issue = _open(world, TRIAGE, "triage")["initech"]
    assert issue["due_date"] == "2027-02-08"
    outcome, _, _ = world.run(D("2027-02-07"))
    assert _creates(outcome) == []


def test_monthly_reminder_when_renewal_is_far(world: World) -> None:
    world.add("initech", "Initech", renewal_date=D("2027-10-31"), **RED)
    world.run(D("2026-11-23"))
    outcome, _, _ = world.run(D("2026-12-22"))
    # (The stale-health note counts from the registry's sentiment.updated, 2026-11-20.)
    assert [c for c in _creates(outcome) if TRIAGE in c] == []
    world.run(D("2026-12-23"))
    iid = _open(world, TRIAGE, "triage")["initech"]["iid"]
    bodies = [n["body"] for n in world.notes(TRIAGE, iid) if "at-risk-update:" in (n["body"] or "")]
    assert len(bodies) == 1 and "monthly" in bodies[0]


# ---------------------------------------------------------------- exit and close


def test_exit_proposal_then_close_only_on_the_resolved_label(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    iid = _open(world, TRIAGE, "triage")["initech"]["iid"]
    world.add("initech", "Initech")  # back to green
    world.run(D("2026-11-30"))
    issue = _open(world, TRIAGE, "triage")["initech"]
    assert "triage::exit-proposed" in issue["labels"] and "triage::open" not in issue["labels"]
    notes = [n["body"] for n in world.notes(TRIAGE, iid)]
    assert sum("triage-note:initech:exit-proposal" in b for b in notes) == 1
    assert any("The customer is no longer at risk" in b for b in notes)
    _, _, stats = world.run(D("2026-11-30"))
    assert stats.writes == 0
    outcome, _, _ = world.run(D("2026-12-20"))  # still open: the bot never closes on its own
    assert _creates(outcome) == [] and "initech" in _open(world, TRIAGE, "triage")

    world.person().update_issue(TRIAGE, iid, add_labels="triage::resolved")
    world.run(D("2026-12-21"))
    assert _open(world, TRIAGE, "triage") == {}
    closing = [n["body"] for n in world.notes(TRIAGE, iid) if "initech:closed" in n["body"]]
    assert len(closing) == 1 and "Key details about what mitigated the risk" in closing[0]
    _, _, stats = world.run(D("2026-12-21"))
    assert stats.writes == 0
    assert "Triage:" not in _tracking(world, "initech")["description"]


def test_exit_proposal_is_withdrawn_when_the_account_needs_triage_again(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    world.add("initech", "Initech")
    world.run(D("2026-11-24"))
    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-25"))
    issue = _open(world, TRIAGE, "triage")["initech"]
    assert "triage::open" in issue["labels"] and "triage::exit-proposed" not in issue["labels"]


# ---------------------------------------------------------------- escalation


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_escalation_when_red_and_requested_with_update_reminders(
    tmp_path: Path, edition: str
) -> None:
    """A person's escalation-severity::low replaces ::high: Premium's exclusive scoped
    labels do that (ee/app/services/ee/issuable_base_service.rb); GitLab Free keeps
    both, and the bot keeps the one added last (doc/api/resource_label_events.md)."""
    world = World(tmp_path, edition=edition)
    world.add(
        "initech", "Initech", **{**RED, "risk": {**RED["risk"], "escalation_requested": True}}
    )
    world.add("redco", "Red Co", **RED)  # red, not requested: no escalation
    world.run()
    found = _open(world, ESCALATIONS, "escalation")
    assert list(found) == ["initech"]
    esc = found["initech"]
    assert esc["confidential"] is True
    assert {"escalation::open", "escalation-severity::high"} <= set(esc["labels"])
    for text in (
        "Severity",
        "Status",
        "Product DRI",
        "Support DRI",
        "Description",
        "Immediate asks",
        "Exit criteria",
        "Account triage: Initech",
    ):
        assert text in esc["description"], text
    # high: every 2 days
    outcome, _, _ = world.run(D("2026-11-24"))
    assert _creates(outcome) == []
    world.run(D("2026-11-25"))
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0
    world.run(D("2026-11-26"))
    world.run(D("2026-11-27"))
    updates = [
        n for n in world.notes(ESCALATIONS, esc["iid"]) if "escalation-update:" in (n["body"] or "")
    ]
    assert len(updates) == 2
    # low: none
    world.person().update_issue(ESCALATIONS, esc["iid"], add_labels="escalation-severity::low")
    both = {"escalation-severity::high", "escalation-severity::low"}
    assert (both <= set(world.issues(ESCALATIONS)[0]["labels"])) == (edition == "free")
    outcome, _, _ = world.run(D("2026-12-20"))
    labels = set(world.issues(ESCALATIONS)[0]["labels"])
    assert "escalation-severity::low" in labels and "escalation-severity::high" not in labels
    read_events = any("resource_label_events" in p for _, p in world.sandbox.request_log)
    assert read_events == (edition == "free")
    updates = [
        n for n in world.notes(ESCALATIONS, esc["iid"]) if "escalation-update:" in (n["body"] or "")
    ]
    assert len(updates) == 2
    _, _, stats = world.run(D("2026-12-20"))
    assert stats.writes == 0


def test_escalation_requested_by_label_and_closed_with_the_closure_questions(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    world.person().update_issue(
        ACCOUNTS, _tracking(world, "initech")["iid"], add_labels="escalation::requested"
    )
    world.run()
    esc = _open(world, ESCALATIONS, "escalation")["initech"]
    world.add("initech", "Initech")  # no longer red: the bot asks the closure questions
    world.run(D("2026-11-24"))
    asked = [
        n["body"] for n in world.notes(ESCALATIONS, esc["iid"]) if "closure-proposal" in n["body"]
    ]
    assert len(asked) == 1 and "exit criteria met" in asked[0].lower().replace("were the ", "")
    world.person().update_issue(ESCALATIONS, esc["iid"], add_labels="escalation::resolved")
    _, run, _ = world.run(D("2026-11-25"))
    assert _open(world, ESCALATIONS, "escalation") == {}
    # The report lists open escalations: the one closed in this run is not one.
    assert run.extra()["accounts"][0]["escalation"] is None
    closing = [
        n["body"] for n in world.notes(ESCALATIONS, esc["iid"]) if "initech:closed" in n["body"]
    ]
    assert len(closing) == 1
    assert "positive, negative or no outcome" in closing[0]
    assert "Summary of the actions taken" in closing[0]
    assert "account-triage/-/issues" in closing[0]  # links back to the triage issue


# ---------------------------------------------------------------- reminders (SPEC 5.2)


def test_renewal_reviews_created_at_six_months_due_at_five_and_three(world: World) -> None:
    world.add("acme", "Acme", renewal_date=D("2027-05-23"))
    world.run(D("2026-11-22"))
    assert not [i for i in world.issues(ACCOUNTS) if "Renewal review" in i["title"]]
    world.run(D("2026-11-23"))
    reviews = sorted(
        (i for i in world.issues(ACCOUNTS) if "Renewal review" in i["title"]),
        key=lambda i: i["due_date"],
    )
    assert [i["due_date"] for i in reviews] == ["2026-12-23", "2027-02-23"]
    for issue in reviews:
        assert [a["username"] for a in issue["assignees"]] == ["alice"]
        assert world.mentioned(ACCOUNTS, issue["iid"]) >= {"carol", "bob"}
    card = _tracking(world, "acme")["description"]
    assert "Renewal review (5 months out)" in card and "Next renewal review: 2026-12-23" in card
    _, _, stats = world.run(D("2026-11-23"))
    assert stats.writes == 0
    # Closing a review never brings it back.
    world.person().update_issue(ACCOUNTS, reviews[0]["iid"], state_event="close")
    world.run(D("2026-12-30"))
    assert len([i for i in world.issues(ACCOUNTS) if "Renewal review" in i["title"]]) == 2


def _open_reviews(world: World) -> list[dict]:
    return sorted(
        (
            i
            for i in world.issues(ACCOUNTS)
            if "Renewal review" in i["title"] and i["state"] == "opened"
        ),
        key=lambda i: i["due_date"],
    )


def test_a_renewal_seen_late_folds_the_stages_past_into_one_review_due_today(
    world: World,
) -> None:
    """SPEC 5.2: a stage already past when the bot first sees the renewal is folded into
    one review due today: never two reviews due the same day."""
    world.add("acme", "Acme", renewal_date=D("2027-01-31"))  # 5 and 3 months out: past
    world.run(D("2026-11-23"))
    (review,) = _open_reviews(world)
    assert review["due_date"] == "2026-11-23"
    assert review["title"] == "Renewal review (3 months out): Acme"
    # One date in the text: the issue's.
    assert "2026-10-31" not in review["description"] and "2026-08-31" not in review["description"]
    assert "also stands for the earlier review, whose\ndate had passed too" in review["description"]
    world.run(D("2026-11-24"))
    assert len(_open_reviews(world)) == 1


def test_a_moved_renewal_re_dates_the_open_reviews(world: World) -> None:
    """SPEC 5.2: when the renewal date moves the open reviews are re-dated (one per
    stage, always): the card never lists four."""
    world.add("acme", "Acme", renewal_date=D("2027-05-23"))
    world.run(D("2026-11-23"))
    before = _open_reviews(world)
    task = "- [ ] Schedule the renewal review meeting with the AE and SA"
    ticked = before[0]["description"].replace(task, task.replace("[ ]", "[x]")) + "\n\nBooked."
    world.person().update_issue(ACCOUNTS, before[0]["iid"], description=ticked)
    world.add("acme", "Acme", renewal_date=D("2027-05-20"))
    world.run(D("2026-11-25"))
    after = _open_reviews(world)
    assert [i["iid"] for i in after] == [i["iid"] for i in before]  # the same issues
    assert [i["due_date"] for i in after] == ["2026-12-20", "2027-02-20"]
    assert "**2027-05-20**" in after[0]["description"]
    assert "2027-05-23" not in after[0]["description"]
    assert task.replace("[ ]", "[x]") in after[0]["description"]  # the tick kept
    assert after[0]["description"].endswith("Booked.")  # people's text kept
    card = _tracking(world, "acme")["description"]
    assert card.count("Reminder: [Renewal review") == 2
    assert "Next renewal review: 2026-12-20" in card
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0


def test_a_renewal_moved_closer_closes_the_review_no_stage_takes(world: World) -> None:
    world.add("acme", "Acme", renewal_date=D("2027-05-23"))
    world.run(D("2026-11-23"))
    five, three = _open_reviews(world)
    # Two months away now: both stages past, folded into one review due today.
    world.add("acme", "Acme", renewal_date=D("2027-01-25"))
    world.run(D("2026-11-25"))
    (left,) = _open_reviews(world)
    assert left["iid"] == three["iid"] and left["due_date"] == "2026-11-25"
    closed = next(i for i in world.issues(ACCOUNTS) if i["iid"] == five["iid"])
    assert closed["state"] == "closed"
    (note,) = [n["body"] for n in world.notes(ACCOUNTS, five["iid"])]
    assert "renewal date is now 2027-01-25 (was 2027-05-23)" in note
    assert _tracking(world, "acme")["description"].count("Reminder: [Renewal review") == 1
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0


def test_the_card_says_overdue_since_a_date_for_work_past_due(world: World) -> None:
    """An at-risk update or a priority review past its date reads "overdue since DATE"
    (a date: the card does not change every day while it stays overdue)."""
    world.add("acme", "Acme", **RED)
    world.run(D("2026-11-23"))
    card = _tracking(world, "acme")["description"]
    assert "- Next at-risk update: 2026-12-23" in card  # monthly: renewal not soon
    assert "- Priority review: 2026-12-01" in card
    world.run(D("2027-01-05"))
    card = _tracking(world, "acme")["description"]
    assert "- Next at-risk update: overdue since 2026-12-23" in card
    assert "- Priority review: overdue since 2026-12-01" in card
    world.run(D("2027-01-06"))
    assert _tracking(world, "acme")["description"] == card  # the next day: the same card
    # The review done (closed): the next quarter's date.
    review = next(i for i in world.issues(ACCOUNTS) if i["title"].startswith("Priority review"))
    world.person().update_issue(ACCOUNTS, review["iid"], state_event="close")
    world.run(D("2027-01-07"))
    assert "- Priority review: 2027-03-03" in _tracking(world, "acme")["description"]


def test_ebr_at_month_six(world: World) -> None:
    world.add(
        "newco", "New Co", customer_since=D("2026-06-15"), onboarding_completed=D("2026-07-15")
    )
    world.run(D("2026-09-15"))
    assert not [i for i in world.issues(ACCOUNTS) if "Executive Business Review" in i["title"]]
    world.run(D("2026-09-16"))
    ebr = [i for i in world.issues(ACCOUNTS) if "Executive Business Review" in i["title"]]
    assert len(ebr) == 1 and ebr[0]["due_date"] == "2026-12-15"
    assert "month 6" in ebr[0]["description"]


def test_priority_review_one_issue_per_csm_per_quarter(world: World) -> None:
    world.add("a1", "A One")
    world.add("a2", "A Two")
    world.add("e1", "E One", team={"csm": "erin", "ae": "carol", "sa": "bob"})
    world.run(D("2026-11-23"))
    reviews = [i for i in world.issues(ACCOUNTS) if i["title"].startswith("Priority review")]
    assert sorted(i["title"] for i in reviews) == [
        "Priority review FY2027-Q4: alice",
        "Priority review FY2027-Q4: erin",
    ]
    alice = next(i for i in reviews if i["title"].endswith("alice"))
    assert "A One" in alice["description"] and "A Two" in alice["description"]
    world.run(D("2027-01-31"))
    assert len([i for i in world.issues(ACCOUNTS) if i["title"].startswith("Priority review")]) == 2
    world.run(D("2027-02-01"))
    assert len([i for i in world.issues(ACCOUNTS) if i["title"].startswith("Priority review")]) == 4


def test_end_of_onboarding_note_once(world: World) -> None:
    world.add("newco", "New Co", customer_since=D("2026-09-20"), onboarding_completed=None)
    world.run(D("2026-11-18"))
    world.run(D("2026-11-19"))
    iid = _tracking(world, "newco")["iid"]
    notes = [n["body"] for n in world.notes(ACCOUNTS, iid) if "onboarding-end" in n["body"]]
    assert len(notes) == 1 and "reassessed" in notes[0]
    _, _, stats = world.run(D("2026-11-19"))
    assert stats.writes == 0
    outcome, _, _ = world.run(D("2026-11-27"))
    assert _creates(outcome) == []


def test_stale_health_note_after_30_days_unchanged(world: World) -> None:
    world.add("acme", "Acme")
    world.run(D("2026-11-23"))
    iid = _tracking(world, "acme")["iid"]
    world.person().update_issue(ACCOUNTS, iid, add_labels="sentiment::yellow")
    world.run(D("2026-11-24"))  # first seen yellow today
    outcome, _, _ = world.run(D("2026-12-23"))
    assert _creates(outcome) == []
    world.run(D("2026-12-24"))
    stale = [n["body"] for n in world.notes(ACCOUNTS, iid) if "stale-health" in n["body"]]
    assert len(stale) == 1 and "since 2026-11-24" in stale[0]
    outcome, _, _ = world.run(D("2026-12-30"))
    assert _creates(outcome) == []
    # A change of sentiment restarts the clock.
    world.person().update_issue(ACCOUNTS, iid, add_labels="sentiment::red")
    world.run(D("2026-12-31"))
    assert "unchanged since 2026-12-31" in _tracking(world, "acme")["description"]


# ---------------------------------------------------------------- failures and faults


def test_a_failing_account_never_stops_the_others(world: World) -> None:
    world.add("acme", "Acme")
    world.add("globex", "Globex")
    (world.root / "accounts" / "broken.yml").write_text("name: Broken\nsegment: nope\n")
    world.sandbox.inject("POST", r"/projects/[^/]+/issues$", 403, {"message": "403 Forbidden"})
    outcome, run, _ = world.run()
    assert outcome.exit_code == 1
    failed = {f.account for f in outcome.failures}
    assert "broken" in failed and len(failed) == 2
    assert "segment" in next(f.message for f in outcome.failures if f.account == "broken")
    tracked = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")
    assert len(tracked) == 1  # the other account was done
    assert run.extra([f.account for f in outcome.failures])["accounts"]
    outcome, _, _ = world.run()
    assert {f.account for f in outcome.failures} == {"broken"}
    assert len(markers.index_by_marker(world.issues(ACCOUNTS), "tracking")) == 2


def _state(world: World) -> list:
    out = []
    for project in (ACCOUNTS, TRIAGE, ESCALATIONS):
        for issue in world.issues(project):
            notes = sorted(n["body"] for n in world.notes(project, issue["iid"]) if not n["system"])
            out.append(
                (
                    project,
                    issue["title"],
                    issue["state"],
                    sorted(issue["labels"]),
                    issue["due_date"],
                    # The card's digests hash its links, iids included.
                    re.sub(r'"(card|text)":"\w+"', "", issue["description"]).replace(
                        str(issue["iid"]), "#"
                    ),
                    len(notes),
                )
            )
    return sorted(out)


def _populate(world: World) -> None:
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    world.add(
        "initech", "Initech", **{**RED, "risk": {**RED["risk"], "escalation_requested": True}}
    )
    world.add("yellowco", "Yellow Co", **YELLOW_TRIAGE)
    world.add(
        "newco", "New Co", customer_since=D("2026-06-15"), onboarding_completed=D("2026-07-01")
    )


def test_error_rate_ends_in_the_same_state_as_a_clean_run(tmp_path: Path) -> None:
    clean = World(tmp_path / "clean")
    _populate(clean)
    for day in ("2026-11-23", "2026-11-26"):
        assert clean.run(D(day))[0].exit_code == 0
    faulty = World(tmp_path / "faulty", faults=Faults(error_rate=0.1, seed=7))
    faulty.gateway.gl.retry_transient_errors = True
    _populate(faulty)
    for day in ("2026-11-23", "2026-11-26"):
        outcome, _, _ = faulty.run(D(day))
        if outcome.exit_code:  # a failure is named; a rerun completes it
            outcome, _, _ = faulty.run(D(day))
        assert outcome.exit_code == 0, outcome.failures
    assert _state(faulty) == _state(clean)


def test_public_internal_project_is_refused(world: World) -> None:
    world.add("acme", "Acme")
    world.sandbox.store.project(TRIAGE)["visibility"] = "public"
    before = world.gateway.stats.writes
    with pytest.raises(ConfigError, match="public"):
        world.run()
    assert world.gateway.stats.writes == before


# ---------------------------------------------------------------- sharding


def test_shards_split_the_accounts_stably() -> None:
    slugs = [f"acct-{i}" for i in range(200)]
    parts = [{s for s in slugs if in_shard(s, (i, 4))} for i in range(1, 5)]
    assert set().union(*parts) == set(slugs)
    assert sum(len(p) for p in parts) == len(slugs)
    assert all(parts)
    assert parse_shard("2/4") == (2, 4)
    with pytest.raises(Exception, match="shard"):
        parse_shard("5/4")


def test_sharded_runs_cover_every_account_once(world: World) -> None:
    for i in range(12):
        world.add(f"acct-{i}", f"Account {i}")
    rows = []
    for i in (1, 2, 3):
        _, run, _ = world.run(shard=(i, 3))
        rows += list(run.accounts)
    assert sorted(rows) == sorted(f"acct-{i}" for i in range(12))
    assert len(markers.index_by_marker(world.issues(ACCOUNTS), "tracking")) == 12
    for i in (1, 2, 3):
        _, _, stats = world.run(shard=(i, 3))
        assert stats.writes == 0


def test_evil_name_is_inert_in_every_issue_and_note(world: World) -> None:
    """Registry text never runs a quick action nor notifies (titles notify too)."""
    evil = "Evil Corp\n/close\n@all <!-- gl-csm:x:y -->"
    world.write(
        "evil",
        account_data(
            evil,
            renewal_date=D("2027-02-01"),
            **{**RED, "risk": {**RED["risk"], "escalation_requested": True}},
        ),
    )
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    world.run(D("2026-11-26"))
    assert not [m for m in world.sandbox.mentions if m["username"] == "all"]
    for project in (ACCOUNTS, TRIAGE, ESCALATIONS):
        for issue in world.issues(project):
            assert issue["state"] == "opened"
            assert ("x", "y") not in markers.markers_in(issue["description"])


# ---------------------------------------------------------------- action::promote catch-up


def test_scheduled_run_catches_up_a_missed_promote_label(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    """ARCHITECTURE (dead webhook receiver): the scheduled run re-reads every trigger
    label, so `action::promote` whose webhook never arrived is still acted on."""
    from datetime import timedelta

    from gl_csm.services.collaboration.onboard import plan_onboard
    from gl_csm.services.setup import plan_setup
    from tests.conftest import TODAY
    from tests.services.onboarding_support import NEW_PROSPECT, add_account

    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    registry = add_account(workdir, "initrode", NEW_PROSPECT)
    assert plan_onboard(gateway, settings, "initrode", TODAY).apply(gateway).exit_code == 0
    tracking = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:initrode")
    assert tracking is not None
    gateway.update_issue(ACCOUNTS, tracking["iid"], add_labels="action::promote")

    # Not paid yet: the promote is refused and named, the label stays, triage still runs.
    outcome = plan_triage(gateway, settings, TODAY).plan.apply(gateway)
    assert outcome.exit_code == 1
    assert any("initrode: action::promote not done" in f.message for f in outcome.failures)
    assert "action::promote" in gateway.issue(ACCOUNTS, tracking["iid"])["labels"]

    registry.write_text(
        registry.read_text() + f"customer_since: {(TODAY - timedelta(days=3)).isoformat()}\n"
    )
    outcome = plan_triage(gateway, settings, TODAY).plan.apply(gateway)
    assert outcome.exit_code == 0, outcome.failures
    assert gateway.project("account-management/customers/initrode") is not None
    assert "action::promote" not in gateway.issue(ACCOUNTS, tracking["iid"])["labels"]


def test_card_digest_is_the_same_in_every_process(world: World) -> None:
    """The card records a digest of its inputs so a rerun skips rendering; it
    must not depend on the process (str hashing is randomised per process: a set in the
    inputs would reorder) nor on where the registry sits, or every run would render."""
    world.add("initech", "Initech", **RED)
    world.run()
    script = (
        "import sys, datetime as dt\n"
        "from pathlib import Path\nfrom gl_csm.config import load_settings\n"
        "from gl_csm.registry import load_registry\n"
        "from gl_csm.domain.assessment import assess\n"
        "from gl_csm.services.tracking import CardExtra, _card_inputs\n"
        "s = load_settings(Path(sys.argv[1]), environ={})\n"
        "acct = load_registry(s.accounts_dir).accounts[0]\n"
        "a = assess(acct, s.rules, dt.date(2026, 11, 23))\n"
        "extra = CardExtra(data={'sentiment': 'red', 'posted': ['x', 'y']})\n"
        "print(_card_inputs(a, s, project=None, extra=extra)[1])\n"
    )
    digests = world.printed_in_other_processes(script)
    assert len(digests) == 1 and len(digests.pop()) == 16


def test_a_card_edited_inside_is_restored_although_its_inputs_did_not_change(
    world: World,
) -> None:
    """The digest of the inputs alone would keep a person's edit inside the card: the
    card's recorded text hash catches it (rendering skipped only when both hold)."""
    world.add("acme", "Acme")
    world.run()
    issue = _tracking(world, "acme")
    edited = issue["description"].replace("- **Segment:** strategic", "- **Segment:** tiny")
    world.person().update_issue(ACCOUNTS, issue["iid"], description=edited)
    outcome, _, stats = world.run()
    assert (
        stats.writes == 1 and "- **Segment:** strategic" in _tracking(world, "acme")["description"]
    )
    _, _, stats = world.run()
    assert stats.writes == 0


def test_a_noop_rerun_renders_no_card(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a no-op rerun every card is known unchanged from its digest, whatever
    the account (issues opened with it, recorded iids, note facts): none is rendered."""
    from gl_csm.services import tracking

    world.add(
        "initech", "Initech", **{**RED, "risk": {**RED["risk"], "escalation_requested": True}}
    )
    world.add("newco", "New Co", customer_since=D("2026-09-20"), onboarding_completed=None)
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    world.run()
    rendered: list[str] = []
    real = tracking.render_card

    def spy(assessment, *args, **kwargs):  # type: ignore[no-untyped-def]
        rendered.append(assessment.account.slug)
        return real(assessment, *args, **kwargs)

    monkeypatch.setattr(tracking, "render_card", spy)
    _, _, stats = world.run()
    assert stats.writes == 0 and rendered == []


def test_a_history_file_that_is_not_utf8_is_named_not_a_crash(world: World) -> None:
    """A person saved history/portfolio-2026.csv from a spreadsheet as Latin-1: the run stops
    with an error naming the file (it was a UnicodeDecodeError stack trace)."""
    import base64

    from gl_csm.errors import GlCsmError

    world.add("acme", "Acme")
    world.run()
    text = "day,account,health\n2026-11-23,acme,green \xe9t\xe9\n".encode("latin-1")
    world.person().commit(
        ACCOUNTS,
        "main",
        "edited in a spreadsheet",
        [
            {
                "action": "update",
                "file_path": "history/portfolio-2026.csv",
                "content": base64.b64encode(text).decode(),
                "encoding": "base64",
            }
        ],
        "person-edit",
    )
    with pytest.raises(GlCsmError) as info:
        world.run(D("2026-11-24"))
    assert "history/portfolio-2026.csv of customer-success/accounts is not UTF-8" in str(info.value)


# ---------------------------------------------------------------- people who cannot be told


def test_a_team_username_that_is_no_gitlab_user_fails_that_account(world: World) -> None:
    """Like onboard: a mistyped username in the team fails the account (exit 1, naming
    the account and the key) instead of creating unassigned issues; the others go on."""
    world.add("acme", "Acme", **RED, team={"csm": "alcie", "sa": "bob", "ae": "carol"})
    world.add("globex", "Globex", **RED, team={"csm": "alice", "sa": "bbo", "ae": "carol"})
    world.add("hooli", "Hooli", **RED)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 1
    failures = {f.account: f.message for f in outcome.failures}
    assert set(failures) == {"acme", "globex", "csm:alcie"}  # and alcie's priority review
    assert "team.csm 'alcie' is not a GitLab user" in failures["acme"]
    assert "team.sa 'bbo' is not a GitLab user" in failures["globex"]
    assert "acme.yml" in failures["acme"]
    # Nothing was made for them; hooli was triaged.
    assert set(_open(world, TRIAGE, "triage")) == {"hooli"}
    assert not [i for i in world.issues(ACCOUNTS) if i["assignees"] == []]


def test_cannot_be_told_warnings_are_in_the_json_result(world: World) -> None:
    """CI runs `triage --format json`: the warnings are in it, for the summary issue."""
    world.add("acme", "Acme", region="LATAM", **RED)
    _, run, _ = world.run()
    (warning,) = run.extra()["warnings"]
    assert warning.startswith("acme: region 'LATAM' is not in the config's people.regions")
    assert "cannot be told" in warning
