"""What the triage run writes for people to read is right and stays current:
plan lines match writes, reminder dates, child accounts, sentiment dates, regions,
links to the tracking issue, the bot's part of each issue following the account."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gl_csm import markers
from tests.services.triage_world import ACCOUNTS, RED, RED_NORAM, TRIAGE, World

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _by_marker(world: World, project: str, kind: str) -> dict[str, dict]:
    return markers.index_by_marker(world.issues(project), kind)


def test_the_plan_names_every_write_it_makes(world: World) -> None:
    """The fiscal-quarter milestone of a new triage issue is a plan
    line of its own (the printed plan said 31 changes next to 32 writes)."""
    world.add("initech", "Initech", **RED)
    outcome, _, stats = world.run()
    assert outcome.exit_code == 0, outcome.failures
    lines = [c.to_text() for c in outcome.changes]
    assert any(line.split()[0] == "create-milestone" and "FY2028-Q3" in line for line in lines)
    assert len(outcome.changes) == stats.writes, lines


def _reminders(world: World) -> dict[str, dict]:
    return _by_marker(world, ACCOUNTS, "reminder")


def test_a_late_renewal_review_states_one_date_the_issues(world: World) -> None:
    """The 5-months-out review of a renewal found 4 months ahead is due
    today; its body says so too (it said "due 2026-10-31" next to a due date of today)."""
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    world.run(D("2026-11-29"))
    review = _reminders(world)["acme:renewal-review:2027-03-31:5"]
    assert review["due_date"] == "2026-11-29"
    assert "This one is due **2026-11-29**" in review["description"]
    assert "2026-10-31" not in review["description"]


def test_a_child_account_not_managed_on_its_own_gets_no_ebr_or_renewal_review(
    world: World,
) -> None:
    """Handbook 001: priority 3 is a child account not managed outside
    its parent; its EBR and renewal reviews are the parent's CSM's."""
    world.add("parent-co", "Parent Co", renewal_date=D("2027-12-31"))
    world.add(
        "child-co",
        "Child Co",
        parent="parent-co",
        managed=False,
        customer_since=D("2026-06-01"),
        onboarding_completed=D("2026-07-01"),
        renewal_date=D("2027-03-31"),
    )
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    child = [k for k in _reminders(world) if k.startswith("child-co:")]
    assert child == []
    card = _by_marker(world, ACCOUNTS, "tracking")["child-co"]["description"]
    assert "Priority: 3" in card
    assert "Next EBR" not in card and "Next renewal review" not in card


def test_the_card_dates_the_sentiment_from_the_registry(world: World) -> None:
    """The card's sentiment date is the registry's sentiment.updated,
    not the day the bot first saw it (the stale-health clock must not restart)."""
    world.add("acme", "Acme", sentiment={"health": "yellow", "updated": D("2026-10-01")})
    world.run(D("2026-11-23"))
    card = _by_marker(world, ACCOUNTS, "tracking")["acme"]["description"]
    assert "unchanged since 2026-10-01" in card
    assert "unchanged since 2026-11-23" not in card  # ("green since": the health history)
    # 30 days after the registry's date: the stale-health reminder is already due (on a
    # new tracking issue it is part of the issue's first description).
    tracking = _by_marker(world, ACCOUNTS, "tracking")["acme"]
    texts = [tracking["description"]] + [n["body"] for n in world.notes(ACCOUNTS, tracking["iid"])]
    assert any("has not changed since 2026-10-01" in (t or "") for t in texts)


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ("LATAM", "region 'LATAM' is not in the config's people.regions"),
        (None, "the account has no `region` in the registry"),
    ],
)
def test_a_region_missing_from_the_config_is_said_not_silent(
    world: World, region: str | None, why: str
) -> None:
    """A red account whose region the config lacks: the run output
    and the triage issue say who could not be told, and why."""
    world.add("initech", "Initech", region=region, **RED)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    text = outcome.render("text", dry_run=False)
    assert f"warning: initech: {why}" in text
    assert "area sales manager, regional director cannot be told" in text
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert f"**Not told:** {why}" in body.replace("\\`", "`")  # (code spans are escaped)
    # A configured region: no warning.
    world.add("globex", "Globex", region="EMEA", **RED)
    outcome, _, _ = world.run()
    assert "warning: globex" not in outcome.render("text", dry_run=False)


def _add_label(world: World, project: str, iid: int, label: str) -> None:
    world.person().update_issue(project, iid, add_labels=label)


def test_resolved_on_a_still_red_account_is_refused_with_why(world: World) -> None:
    """`triage::resolved` on a red account does not close the issue with
    "no longer at risk: health red"; a note says why and the label is removed. The
    handbook's other conclusion, the customer is lost (will-churn), closes it truly."""
    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    _add_label(world, TRIAGE, issue["iid"], "triage::resolved")
    outcome, _, _ = world.run(D("2026-11-24"))
    assert outcome.exit_code == 0, outcome.failures
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert issue["state"] == "opened"
    assert "triage::resolved" not in issue["labels"] and "triage::open" in issue["labels"]
    notes = [n["body"] for n in world.notes(TRIAGE, issue["iid"])]
    refused = [b for b in notes if "resolve-refused" in b]
    assert len(refused) == 1
    assert "`triage::resolved` was removed: **Initech** is still **red**:" in refused[0]
    assert not any("Closing:" in b for b in notes)
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0

    # The customer is lost: lifecycle will-churn in the registry, the checklist's four
    # steps ticked (SPEC 4), then resolved again.
    from gl_csm.services.moves.will_churn import STEPS

    world.add("initech", "Initech", lifecycle="will-churn", **RED)
    world.run(D("2026-11-25"))
    checklist = _by_marker(world, ACCOUNTS, "will-churn")["initech"]
    body = checklist["description"]
    for step in STEPS:
        body = body.replace(f"- [ ] {step}", f"- [x] {step}")
    world.person().update_issue(ACCOUNTS, checklist["iid"], description=body)
    _add_label(world, TRIAGE, issue["iid"], "triage::resolved")
    world.run(D("2026-11-26"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert issue["state"] == "closed"
    closing = [n["body"] for n in world.notes(TRIAGE, issue["iid"]) if "Closing:" in n["body"]]
    assert len(closing) == 1
    assert any("the customer is lost (lifecycle will-churn)" in b for b in closing)
    assert not any("no longer at risk" in b for b in closing)


def test_resolved_on_a_green_account_closes_saying_no_longer_at_risk(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    world.add("initech", "Initech")  # back to green
    _add_label(world, TRIAGE, issue["iid"], "triage::resolved")
    world.run(D("2026-11-30"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert issue["state"] == "closed"
    bodies = [n["body"] for n in world.notes(TRIAGE, issue["iid"])]
    assert any(
        "The customer is no longer at risk. Health on 2026-11-23 (triage opened): red (score "
        "75): overridden by red CSM sentiment and potential contraction or churn; "
        "on 2026-11-30: **green (score 100)**" in b
        for b in bodies
    ), bodies


def test_issues_opened_with_the_tracking_issue_link_it_from_the_first_run(world: World) -> None:
    """Triage, escalation and reminder issues opened in the run that
    creates the tracking issue link it (they said "(the account's tracking issue)"
    forever); the card links them; a rerun writes nothing."""
    world.add(
        "initech",
        "Initech",
        renewal_date=D("2027-03-31"),
        **{**RED, "risk": {**RED["risk"], "escalation_requested": True}},
    )
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    tracking = _by_marker(world, ACCOUNTS, "tracking")["initech"]
    link = f"[Initech #{tracking['iid']}]({tracking['web_url']})"
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    escalation = _by_marker(world, "customer-success/escalations", "escalation")["initech"]
    reviews = [i for k, i in _reminders(world).items() if k.startswith("initech:renewal-review")]
    assert len(reviews) == 2
    for issue in (triage, escalation, *reviews):
        assert link in issue["description"], issue["title"]
        assert "(the account's tracking issue)" not in issue["description"]
    card = tracking["description"]
    assert f"Triage: [Account triage: Initech #{triage['iid']}]" in card
    assert f"Escalation: [Account escalation: Initech #{escalation['iid']}]" in card
    assert card.count("Reminder: [Renewal review") == 2
    _, _, stats = world.run(D("2026-11-23"))
    assert stats.writes == 0


def test_the_bots_part_of_a_triage_issue_follows_the_account(world: World) -> None:
    """A triage issue opened before `risk.types` was recorded gets the
    risk types and the playbook once they are; a person's text below the bot's part and
    a box they ticked stay; an unchanged account rewrites nothing."""
    red_no_types = {
        "sentiment": {"health": "red", "updated": D("2026-11-20")},
        "risk": {"contraction": True},
    }
    world.add("initech", "Initech", **red_no_types)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert "Risk types: not recorded yet" in issue["description"]
    assert "### Cost/Budget" not in issue["description"]
    person_text = "\n\nOur notes: the EB call is on Friday.\n"
    world.person().update_issue(
        TRIAGE, issue["iid"], description=issue["description"] + person_text
    )

    world.add(
        "initech",
        "Initech",
        **{**red_no_types, "risk": {"contraction": True, "types": ["cost-budget"]}},
    )
    outcome, _, _ = world.run(D("2026-11-24"))
    assert outcome.exit_code == 0, outcome.failures
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    body = issue["description"]
    assert "Risk types: cost-budget" in body and "not recorded yet (set" not in body
    assert "### Cost/Budget" in body and "**Mitigations**" in body
    assert body.rstrip().endswith(person_text.rstrip())
    assert "risk-type::cost-budget" in issue["labels"]

    # A person ticks a mitigation: a later rewrite keeps it ticked.
    task = "- [ ] Explore cloud provider retiring spend"
    assert task in body
    world.person().update_issue(
        TRIAGE, issue["iid"], description=body.replace(task, task.replace("[ ]", "[x]"))
    )
    world.add(
        "initech",
        "Initech",
        arr=999000,
        **{**red_no_types, "risk": {"contraction": True, "types": ["cost-budget"]}},
    )
    world.run(D("2026-11-25"))
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert "$999,000" in body
    assert task.replace("[ ]", "[x]") in body and body.rstrip().endswith(person_text.rstrip())
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0


def test_the_bots_part_of_an_escalation_follows_the_account(world: World) -> None:
    """The escalation's facts follow the account; the owners table
    people fill in (below the bot's part) stays as they wrote it."""
    requested = {**RED, "risk": {**RED["risk"], "escalation_requested": True}}
    world.add("initech", "Initech", **requested)
    world.run(D("2026-11-23"))
    project = "customer-success/escalations"
    issue = _by_marker(world, project, "escalation")["initech"]
    named = issue["description"].replace(
        "| Product DRI | _to be named_ |", "| Product DRI | pm-jo |"
    )
    world.person().update_issue(project, issue["iid"], description=named)
    world.add("initech", "Initech", arr=777000, **requested)
    world.run(D("2026-11-24"))
    body = _by_marker(world, project, "escalation")["initech"]["description"]
    assert "/ $777,000 |" in body and "| Product DRI | pm-jo |" in body
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0


def test_the_bots_part_of_a_reminder_follows_the_account(world: World) -> None:
    """Reminder issues: a new ARR shows in the open renewal review; a
    box the CSM ticked and their text below stay; the date stays the issue's."""
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    world.run(D("2026-11-29"))
    review = _reminders(world)["acme:renewal-review:2027-03-31:3"]
    task = "- [ ] Schedule the renewal review meeting with the AE and SA"
    body = (
        review["description"].replace(task, task.replace("[ ]", "[x]")) + "\n\nBooked for Dec 12."
    )
    world.person().update_issue(ACCOUNTS, review["iid"], description=body)
    world.add("acme", "Acme", renewal_date=D("2027-03-31"), arr=640000)
    world.run(D("2026-11-30"))
    body = _reminders(world)["acme:renewal-review:2027-03-31:3"]["description"]
    assert "(ARR $640,000)" in body
    assert task.replace("[ ]", "[x]") in body and body.rstrip().endswith("Booked for Dec 12.")
    assert "This one is due **2026-12-31**" in body
    _, _, stats = world.run(D("2026-11-30"))
    assert stats.writes == 0


def test_an_open_priority_review_follows_the_book(world: World) -> None:
    """The quarter's priority review lists the CSM's book as it is now
    (an account added to the book later shows up); a rerun writes nothing."""
    world.add("acme", "Acme")
    world.run(D("2026-11-23"))
    review = _reminders(world)["csm.alice:priority-review:fy2027-q4"]
    assert "| Globex |" not in review["description"]
    world.add("globex", "Globex")
    world.run(D("2026-11-24"))
    review = _reminders(world)["csm.alice:priority-review:fy2027-q4"]
    assert "| Globex |" in review["description"] and "| Acme |" in review["description"]
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0


# ---------------------------------------------------------------- playbooks as data


def test_every_playbook_line_parses_whole() -> None:
    """A mitigation was cut to "Seek help in the": an unquoted ` #competition` is a YAML
    comment. Every list item of issue_templates/playbooks.yml reads as its whole line."""
    import yaml

    from gl_csm.services.tracking import ISSUE_TEMPLATES

    text = (ISSUE_TEMPLATES / "playbooks.yml").read_text(encoding="utf-8")
    items = [line.split("- ", 1)[1] for line in text.splitlines() if line.lstrip().startswith("- ")]
    assert len(items) > 40
    for raw in items:
        if raw.startswith(("topic:", '"', "'")):
            continue
        assert yaml.safe_load(raw) == raw.strip(), raw
    shown = [m for p in yaml.safe_load(text)["types"].values() for m in p["mitigations"]]
    assert "Seek help in the #competition Slack channel." in shown


def test_playbook_text_is_shown_as_written() -> None:
    # The playbooks are the bot's own text (issue_templates/playbooks.yml): their
    # "#competition" is a Slack channel named as written, not text to make inert.
    from gl_csm.services.triage.triage_issue import playbook_part

    part = playbook_part("acme.yml", ("competitive",), ())
    assert "Seek help in the #competition Slack channel." in part, part


def test_templates_check_names_a_text_cut_by_a_comment(tmp_path: Path) -> None:
    """`templates check` (playbooks.check_file) names the line YAML cuts at ` #`."""
    from gl_csm.services.tracking import ISSUE_TEMPLATES
    from gl_csm.services.triage.playbooks import check_file

    text = (ISSUE_TEMPLATES / "playbooks.yml").read_text(encoding="utf-8")
    cut = text.replace('"Seek help in the #competition Slack channel."', "Seek help in the #comp")
    assert cut != text
    path = tmp_path / "playbooks.yml"
    path.write_text(cut)
    problems = check_file(path)
    assert len(problems) == 1
    assert "the text is cut at ' #'" in problems[0] and "'Seek help in the'" in problems[0]
    assert check_file(ISSUE_TEMPLATES / "playbooks.yml") == []


# ---------------------------------------------------------------- escalations reach people

ESCALATIONS = "customer-success/escalations"
REQUESTED = {**RED, "risk": {**RED["risk"], "escalation_requested": True}}
CONTACTS = {"pm-escalations", "support-escalations"}


def _person_note(world: World, project: str, iid: int, body: str) -> dict:
    """A note a person writes (no marker), straight through the API."""
    path = f"/projects/{project.replace('/', '%2F')}/issues/{iid}/notes"
    return world.person().gl.http_post(path, post_data={"body": body})  # type: ignore[return-value]


def _notes(world: World, project: str, iid: int) -> list[str]:
    return [n["body"] for n in world.notes(project, iid) if not n.get("system")]


def test_an_escalation_tells_the_red_people_and_the_contacts_and_the_issues_link_each_other(
    world: World,
) -> None:
    """SPEC 5.0, handbook 002 "further assistance from Product, Support or Managers+":
    the escalation mentions the red list and people.escalations; the triage issue opened
    in the same run gets a note linking the escalation; a rerun writes nothing."""
    world.add("initech", "Initech", **REQUESTED)
    outcome, _, _ = world.run(D("2026-11-23"))
    assert outcome.exit_code == 0, outcome.failures
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    assert world.mentioned(ESCALATIONS, esc["iid"]) >= RED_NORAM | CONTACTS
    assert f"[Account triage: Initech #{triage['iid']}]({triage['web_url']})" in esc["description"]
    linking = [b for b in _notes(world, TRIAGE, triage["iid"]) if "escalation-opened" in b]
    assert len(linking) == 1
    assert f"[Account escalation: Initech #{esc['iid']}]({esc['web_url']})" in linking[0]
    _, _, stats = world.run(D("2026-11-23"))
    assert stats.writes == 0


def test_an_escalation_opened_later_is_linked_from_the_open_triage_issue(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-23"))
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-24"))
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    linking = [b for b in _notes(world, TRIAGE, triage["iid"]) if "escalation-opened" in b]
    assert len(linking) == 1 and esc["web_url"] in linking[0]
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0


def test_escalation_reminders_count_missed_updates_and_tell_the_manager_from_the_second(
    world: World,
) -> None:
    """SPEC 5.0: a reminder says how many updates were missed since when (an update is
    missed once its due day has passed: the one due today is not); from the second
    missed update on it also mentions the regional CSM manager, once for a run of
    missed updates: the later reminders say when the manager was told."""
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-23"))
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    world.person().update_issue(ESCALATIONS, esc["iid"], add_labels="escalation-severity::critical")
    seen: set[int] = set()

    def new_reminder(day: str) -> str:
        world.run(D(day))
        fresh = [
            n
            for n in world.notes(ESCALATIONS, esc["iid"])
            if "escalation-update:" in n["body"] and n["id"] not in seen
        ]
        assert len(fresh) == 1, fresh
        seen.add(fresh[0]["id"])
        return fresh[0]["body"]

    first = new_reminder("2026-11-24")
    assert "an update is due today" in first and "missed" not in first
    second = new_reminder("2026-11-25")
    assert "1 update missed since 2026-11-24, and the next one is due today" in second
    assert "noram-mgr" not in second
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0
    third = new_reminder("2026-11-26")
    assert "2 updates missed since 2026-11-24" in third
    assert "@noram-mgr (regional CSM manager)" in third
    told = {
        m["username"]
        for m in world.sandbox.mentions
        if m["project"] == ESCALATIONS and m["source"] != "description"
    }
    assert "noram-mgr" in told
    fourth = new_reminder("2026-11-27")
    assert "3 updates missed since 2026-11-24" in fourth
    assert "@noram-mgr" not in fourth
    assert "The regional CSM manager was told on 2026-11-26" in fourth

    # A person's update on 11-28 restarts the count.
    world.today = D("2026-11-28")
    _person_note(world, ESCALATIONS, esc["iid"], "Update: PM call booked.")
    world.run(D("2026-11-28"))
    latest = new_reminder("2026-11-29")
    assert "an update is due today" in latest
    assert "noram-mgr" not in latest


# ---------------------------------------------------------------- the record stays


def test_the_record_of_the_risk_stays_when_the_account_recovers(world: World) -> None:
    """SPEC 5.0: when the risk clears, the triage issue keeps its risk types, reasons,
    impacts (labels too), its playbook with the ticks and who was told; the escalation
    keeps its record and never says the green account needs assistance; the change is
    told in a note; closing rewrites no description."""
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-23"))
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    task = "- [ ] Explore cloud provider retiring spend"
    ticked = triage["description"].replace(task, task.replace("[ ]", "[x]"))
    world.person().update_issue(TRIAGE, triage["iid"], description=ticked)
    esc_before = _by_marker(world, ESCALATIONS, "escalation")["initech"]["description"]

    world.add("initech", "Initech")  # green, no risk recorded any more
    world.run(D("2026-11-30"))
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    assert triage["description"] == ticked
    assert {"risk-type::cost-budget", "risk-reason::loss-of-budget"} <= set(triage["labels"])
    assert "triage::exit-proposed" in triage["labels"]
    assert esc["description"] == esc_before
    assert "**green**" not in esc["description"]
    proposal = [b for b in _notes(world, TRIAGE, triage["iid"]) if "exit-proposal" in b]
    assert len(proposal) == 1 and "stays the record of the risk" in proposal[0]
    _, _, stats = world.run(D("2026-11-30"))
    assert stats.writes == 0

    for project, iid, label in (
        (TRIAGE, triage["iid"], "triage::resolved"),
        (ESCALATIONS, esc["iid"], "escalation::resolved"),
    ):
        world.person().update_issue(project, iid, add_labels=label)
    world.run(D("2026-12-01"))
    closed_triage = _by_marker(world, TRIAGE, "triage")["initech"]
    closed_esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    assert closed_triage["state"] == closed_esc["state"] == "closed"
    assert closed_triage["description"] == ticked
    assert closed_esc["description"] == esc_before


# ---------------------------------------------------------------- closing facts


def test_the_closing_note_carries_the_facts_and_tells_the_people_told_at_red(
    world: World,
) -> None:
    """handbook 002 "At-Risk Update for Resolution of Risk": health and sentiment before
    and after with dates, days in triage, the last person update quoted and linked; the
    people told at red are mentioned; the escalation closes naming the triage issue
    (closed in the same run) and the DRIs."""
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-23"))
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    named = esc["description"].replace("| Product DRI | _to be named_ |", "| Product DRI | pm-jo |")
    world.person().update_issue(ESCALATIONS, esc["iid"], description=named)
    world.today = D("2026-11-27")
    update = _person_note(
        world, TRIAGE, triage["iid"], "Budget approved after the EB call; seats stay. @vp-cs FYI"
    )
    world.add(
        "initech",
        "Initech",
        sentiment={"health": "green", "updated": D("2026-12-01")},
    )
    world.run(D("2026-12-02"))
    for project, iid, label in (
        (TRIAGE, triage["iid"], "triage::resolved"),
        (ESCALATIONS, esc["iid"], "escalation::resolved"),
    ):
        world.person().update_issue(project, iid, add_labels=label)
    before = len(world.sandbox.mentions)
    world.run(D("2026-12-03"))

    closing = [b for b in _notes(world, TRIAGE, triage["iid"]) if "initech:closed" in b]
    assert len(closing) == 1
    text = closing[0]
    assert "Health on 2026-11-23 (triage opened): red (score 75): overridden by red CSM " in text
    assert "on 2026-12-03: **green (score 100)**" in text
    assert "CSM sentiment: green since 2026-12-01 (was red on 2026-11-23)" in text
    assert "In triage 10 days, from 2026-11-23 to 2026-12-03." in text
    assert f"{triage['web_url']}#note_{update['id']}" in text
    assert "Budget approved after the EB call; seats stay." in text
    assert "see the last at-risk update above" not in text
    told = {m["username"] for m in world.sandbox.mentions[before:] if m["project"] == TRIAGE}
    assert told == RED_NORAM  # the quote's "@vp-cs" is inert: told once, by the bot

    esc_closing = [b for b in _notes(world, ESCALATIONS, esc["iid"]) if "initech:closed" in b]
    assert len(esc_closing) == 1
    assert f"[Account triage: Initech #{triage['iid']}]({triage['web_url']})" in esc_closing[0]
    assert "Product DRI: pm-jo. Support DRI: none was named." in esc_closing[0]


def test_a_closing_note_says_when_no_update_was_posted(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-23"))
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    world.add("initech", "Initech")
    _add_label(world, TRIAGE, triage["iid"], "triage::resolved")
    world.run(D("2026-11-30"))
    closing = [b for b in _notes(world, TRIAGE, triage["iid"]) if "initech:closed" in b]
    assert (
        "none was posted: nobody wrote an at-risk update on this issue in its 7 days"
        in (closing[0])
    )


# ---------------------------------------------------------------- people's words


def test_the_triage_issue_says_what_decided_in_words(world: World) -> None:
    """A healthy scorecard made red by the CSM's sentiment says so; measures read as
    names with units; where data must change it names the file and key, not the SPEC."""
    world.add(
        "initech",
        "Initech",
        sentiment={"health": "red", "needs_triage": True, "updated": D("2026-11-20")},
        engagement={"last_call": D("2026-08-01"), "contacts": 5, "personas_last_90_days": []},
    )
    world.run(D("2026-11-23"))
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert "| Health | red (score 65): overridden by red CSM sentiment |" in body
    assert "- Override: red CSM sentiment makes the account red" in body
    assert "- Persona engagement is red: no key persona in the last 90 days" in body
    assert "- Meeting cadence is red: last call on 2026-08-01" in body
    assert "`needs_triage: true` under `sentiment:` in `initech.yml`" in body
    assert "The CSM records them in `initech.yml` under `risk:`" in body
    for machine in ("license_utilization", "persona_engagement", "[]", "SPEC", "in the registry"):
        assert machine not in body, machine


def test_assess_speaks_in_words(world: World) -> None:
    """`gl-csm assess` text: the override that decided, measure names and units."""
    from gl_csm.services.assess import render_text, run_assess

    world.add(
        "initech",
        "Initech",
        sentiment={"health": "red", "updated": D("2026-11-20")},
        usage={
            "as_of": D("2026-11-01"),
            "monthly_active": 0.3,
            "scm": 0.8,
            "ci": 0.1,
            "devsecops": 0.4,
            "cd": 0.4,
        },
    )
    text = render_text(run_assess(world.root / "accounts", world.settings.rules, D("2026-11-23")))
    assert "initech: red (score 65.5): overridden by red CSM sentiment;" in text
    assert "User engagement yellow (30% of users active in the month)" in text
    assert "CI use red (10% of users)" in text
    for machine in ("license_utilization", "user_engagement", "-> red", "(0.1)"):
        assert machine not in text, machine


# ---------------------------------------------------------------- who is told, suggestions


def test_who_is_told_follows_the_color_without_mentioning_anyone_twice(world: World) -> None:
    yellow = {"health": "yellow", "needs_triage": True, "updated": D("2026-11-20")}
    world.add("initech", "Initech", sentiment=yellow)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert "### Who is told (yellow rating)" in issue["description"]

    world.add("initech", "Initech", sentiment={**yellow, "health": "red"})
    world.run(D("2026-11-24"))
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert "### Who is told (red rating)" in body
    assert "- VP of Customer Success: vp-cs (told in a note when the account turned red)" in body
    assert "@vp-cs" not in body  # told in the note, not mentioned again by an edit
    described = world.mentioned(TRIAGE, issue["iid"], "description")
    assert "vp-cs" not in described and "noram-mgr" in described
    assert "vp-cs" in world.mentioned(TRIAGE, issue["iid"])

    world.add("initech", "Initech", sentiment=yellow)
    world.run(D("2026-11-25"))
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert "### Who is told (yellow rating)" in body
    assert "Told while the account was red" in body
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0


def test_a_red_from_the_scorecard_alone_suggests_the_playbook_its_red_measures_point_to(
    world: World,
) -> None:
    """No risk type recorded and a red from product usage alone: the product-usage
    playbook is suggested for the CSM to confirm; recording a type replaces it and
    keeps the boxes ticked meanwhile."""
    low_usage = {
        "seats": {"licensed": 100, "active": 5},
        "usage": {
            "as_of": D("2026-11-01"),
            "monthly_active": 0.05,
            "scm": 0.05,
            "ci": 0.01,
            "devsecops": 0.0,
            "cd": 0.0,
        },
        "success_plan": {"objectives": 2},
    }
    world.add("initech", "Initech", **low_usage)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    body = issue["description"]
    assert "| Health | red (score 46) |" in body
    assert "## Suggested playbook" in body
    assert "The red measures point to the risk type `product-usage`: confirm" in body
    assert (
        "### Product Usage (not using features and functionality in their license tier) "
        "(suggested: License utilization, User engagement, Source code management use, "
        "CI use, DevSecOps use, CD use are red)" in body
    )
    assert "No risk type recorded yet" not in body and "### Cost/Budget" not in body
    task = "- [ ] CI: offer an Advanced CI/CD workshop if they have difficulty building pipelines."
    assert task in body
    world.person().update_issue(
        TRIAGE, issue["iid"], description=body.replace(task, task.replace("[ ]", "[x]"))
    )
    world.add("initech", "Initech", **low_usage, risk={"types": ["product-usage"]})
    world.run(D("2026-11-24"))
    body = _by_marker(world, TRIAGE, "triage")["initech"]["description"]
    assert "## Playbook" in body and "Suggested" not in body
    assert task.replace("[ ]", "[x]") in body


def test_an_escalation_closed_after_its_triage_issue_still_links_it(world: World) -> None:
    """The triage issue closed days before: the escalation's closing note links it from
    the escalation's own record (its title made inert again, the URL kept)."""
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-23"))
    triage = _by_marker(world, TRIAGE, "triage")["initech"]
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    world.add("initech", "Initech")
    _add_label(world, TRIAGE, triage["iid"], "triage::resolved")
    world.run(D("2026-11-30"))
    assert _by_marker(world, TRIAGE, "triage")["initech"]["state"] == "closed"
    edited = esc["description"].replace(
        "[Account triage: Initech #", "[Account triage: Initech @vp-cs #"
    )
    world.person().update_issue(ESCALATIONS, esc["iid"], description=edited)
    _add_label(world, ESCALATIONS, esc["iid"], "escalation::resolved")
    before = len(world.sandbox.mentions)
    world.run(D("2026-12-01"))
    closing = [b for b in _notes(world, ESCALATIONS, esc["iid"]) if "initech:closed" in b]
    assert len(closing) == 1
    # Link text is neutralised too (templates.inline: a zero-width space after "#").
    assert f"#{triage['iid']}]({triage['web_url']})" in closing[0].replace("\u200b", "")
    assert "Triage issue: (no open triage issue)" not in closing[0]
    assert not [m for m in world.sandbox.mentions[before:] if m["username"] == "vp-cs"]


def test_resolved_while_triage_is_still_asked_for_is_refused_then_closes_once_cleared(
    world: World,
) -> None:
    """SPEC 4: an account the CSM asks triage for needs it whatever its color. Closing
    its issue on `triage::resolved` while the registry still asks made the next run
    open a new one the same day (a rerun that wrote); the resolution is refused with
    why, and closes for good once the request is cleared."""
    from tests.services.triage_world import YELLOW_TRIAGE

    world.add("initech", "Initech", **YELLOW_TRIAGE)
    world.run(D("2026-11-23"))
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    _add_label(world, TRIAGE, issue["iid"], "triage::resolved")
    outcome, _, _ = world.run(D("2026-11-24"))
    assert outcome.exit_code == 0, outcome.failures
    issue = _by_marker(world, TRIAGE, "triage")["initech"]
    assert issue["state"] == "opened" and "triage::resolved" not in issue["labels"]
    refused = [
        n["body"] for n in world.notes(TRIAGE, issue["iid"]) if "resolve-refused" in n["body"]
    ]
    assert len(refused) == 1
    assert "is still asked to be in triage by `sentiment.needs_triage: true` in" in refused[0]
    assert "still **red**" not in refused[0]
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0

    # The CSM clears the request (sentiment refreshed, green) and resolves again.
    world.add("initech", "Initech", sentiment={"health": "green", "updated": D("2026-11-25")})
    _add_label(world, TRIAGE, issue["iid"], "triage::resolved")
    world.run(D("2026-11-25"))
    assert _by_marker(world, TRIAGE, "triage")["initech"]["state"] == "closed"
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0
    assert len(world.issues(TRIAGE)) == 1  # no new episode opened


def test_escalation_resolved_while_red_and_still_requested_is_refused(world: World) -> None:
    """SPEC 5.0 opens an escalation when the account is red and it is requested: closing
    it on `escalation::resolved` while both still hold made the next run open a new one.
    The label goes with a note naming the request; withdrawn, the resolution closes."""
    world.add("initech", "Initech", **REQUESTED)
    world.run(D("2026-11-23"))
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    _add_label(world, ESCALATIONS, esc["iid"], "escalation::resolved")
    world.run(D("2026-11-24"))
    esc = _by_marker(world, ESCALATIONS, "escalation")["initech"]
    assert esc["state"] == "opened" and "escalation::resolved" not in esc["labels"]
    refused = [b for b in _notes(world, ESCALATIONS, esc["iid"]) if "resolve-refused" in b]
    assert len(refused) == 1
    assert (
        "its escalation is still requested by `risk.escalation_requested: true` in" in (refused[0])
    )
    _, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0

    # The request withdrawn (still red): the resolution closes it, and no new one opens.
    world.add("initech", "Initech", **RED)
    _add_label(world, ESCALATIONS, esc["iid"], "escalation::resolved")
    world.run(D("2026-11-25"))
    assert _by_marker(world, ESCALATIONS, "escalation")["initech"]["state"] == "closed"
    _, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0
    assert len(world.issues(ESCALATIONS)) == 1
