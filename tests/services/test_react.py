"""`gl-csm react` (SPEC 5 React): label triggers of one Issue Hook, in-process against
the sandbox. Payload shape: doc/user/project/integrations/webhook_events.md."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.config import Settings, load_settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.react import PayloadError, parse_event, plan_react, react
from tests.conftest import CONFIG, TODAY
from tests.services.onboarding_support import onboard_prospect
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, ESCALATIONS, RED, TRIAGE, World

D = date.fromisoformat


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _tracking(world: World, slug: str) -> dict:
    return markers.index_by_marker(world.issues(ACCOUNTS), "tracking")[slug]


def _open(world: World, project: str, kind: str) -> dict[str, dict]:
    return markers.index_by_marker(world.issues(project, state="opened"), kind)


def _react(world: World, payload: dict[str, Any], **kw: Any) -> tuple[Any, Any, int]:
    """React once; returns (reaction, outcome, writes sent)."""
    before = world.gateway.stats.writes
    reaction, outcome = react(world.gateway, world.settings, world.today, payload, **kw)
    return reaction, outcome, world.gateway.stats.writes - before


def _person_adds(world: World, project: str, issue: dict, *labels: str, **kw: Any) -> dict:
    """A person adds labels; GitLab then sends the Issue Hook returned here."""
    world.person().update_issue(project, issue["iid"], add_labels=",".join(labels))
    fresh = world.person().issue(project, issue["iid"])
    assert fresh is not None
    return issue_hook(project, fresh, added=labels, **kw)


# ---------------------------------------------------------------- tracking issue triggers


def test_triage_needed_triages_the_account_now_and_a_second_delivery_writes_nothing(
    world: World,
) -> None:
    world.add("acme", "Acme")
    world.add("globex", "Globex")
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "triage::needed")
    reaction, outcome, writes = _react(world, payload)
    assert reaction.status == "acted" and reaction.account == "acme"
    assert outcome.exit_code == 0 and writes > 0
    assert outcome.notes[0].startswith("trigger: triage::needed added on")
    assert set(_open(world, TRIAGE, "triage")) == {"acme"}
    # Only that account: nothing planned for globex.
    assert {c.account for c in outcome.changes} == {"acme"}
    # SPEC 5 React: a payload delivered twice acts once.
    _, again, writes = _react(world, payload)
    assert writes == 0 and again.changes == []
    # ... and the scheduled run agrees with what react did; it only records the
    # account's change in the portfolio history and brings the CSM's priority review
    # (its book: acme's health) up to date (react leaves both to it).
    scheduled, _, stats = world.run()
    assert [c.action for c in scheduled.changes] == ["update-issue", "commit-history"]
    assert "priority-review" in scheduled.changes[0].target
    assert stats.writes == 2


def test_sentiment_label_triages_now(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "sentiment::red")
    reaction, outcome, _ = _react(world, payload)
    assert reaction.trigger == "sentiment::red" and outcome.exit_code == 0
    assert "health::red" in _tracking(world, "acme")["labels"]
    assert "acme" in _open(world, TRIAGE, "triage")


def test_confidential_issue_hook_is_handled(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    payload = _person_adds(
        world, ACCOUNTS, _tracking(world, "acme"), "triage::needed", confidential=True
    )
    assert payload["event_type"] == "confidential_issue"
    event = parse_event(payload)
    assert event is not None and event.confidential
    reaction, _, _ = _react(world, payload)
    assert reaction.status == "acted" and "acme" in _open(world, TRIAGE, "triage")


def test_renamed_labels_are_read_through_the_taxonomy(world: World) -> None:
    (world.root / "gl-csm.yml").write_text(CONFIG + 'labels: {"triage::needed": "NeedsTriage"}\n')
    world.settings = load_settings(world.root / "gl-csm.yml", environ={})
    world.add("acme", "Acme")
    world.run()
    # The canonical name is not this team's label: it triggers nothing.
    plain = issue_hook(ACCOUNTS, _tracking(world, "acme"), added=["triage::needed"])
    assert plan_react(world.gateway, world.settings, world.today, plain).status == "ignored"
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "NeedsTriage")
    reaction, _, _ = _react(world, payload)
    assert reaction.status == "acted" and reaction.trigger == "NeedsTriage"
    assert "acme" in _open(world, TRIAGE, "triage")


def test_a_label_that_was_already_there_is_not_a_trigger(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    issue = _tracking(world, "acme")
    world.person().update_issue(ACCOUNTS, issue["iid"], add_labels="triage::needed")
    issue = world.person().issue(ACCOUNTS, issue["iid"])
    # The title changed; triage::needed is in both previous and current.
    payload = issue_hook(ACCOUNTS, issue, previous=issue["labels"])
    reaction, outcome, writes = _react(world, payload)
    assert reaction.status == "ignored" and "added no label" in reaction.reason
    assert writes == 0 and outcome.notes[0].startswith("ignored: ")


def test_escalation_requested_on_a_red_account_escalates_now(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "initech"), "escalation::requested")
    reaction, outcome, _ = _react(world, payload)
    assert reaction.status == "acted" and "escalate now" in reaction.reason
    esc = _open(world, ESCALATIONS, "escalation")["initech"]
    assert esc["confidential"] is True
    _, _, writes = _react(world, payload)
    assert writes == 0 and len(_open(world, ESCALATIONS, "escalation")) == 1


def test_escalation_requested_on_an_account_that_is_not_red_does_nothing(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "escalation::requested")
    reaction, outcome, writes = _react(world, payload)
    assert reaction.status == "ignored" and writes == 0 and outcome.changes == []
    assert "green, not red: no escalation opened" in reaction.reason
    assert _open(world, ESCALATIONS, "escalation") == {}


# ---------------------------------------------------------------- triage issue: resolved


def test_triage_resolved_closes_the_triage_issue_with_the_resolution_format(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    issue = _open(world, TRIAGE, "triage")["initech"]
    world.add("initech", "Initech")  # back to green
    world.run(D("2026-11-30"))
    payload = _person_adds(world, TRIAGE, issue, "triage::resolved")
    reaction, outcome, _ = _react(world, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0
    assert _open(world, TRIAGE, "triage") == {}
    closing = [
        n["body"] for n in world.notes(TRIAGE, issue["iid"]) if "initech:closed" in n["body"]
    ]
    assert len(closing) == 1 and "Key details about what mitigated the risk" in closing[0]
    again, _, writes = _react(world, payload)
    assert writes == 0 and again.status == "ignored" and "already closed" in again.reason


def test_other_labels_on_a_triage_issue_are_ignored(world: World) -> None:
    world.add("initech", "Initech", **RED)
    world.run()
    issue = _open(world, TRIAGE, "triage")["initech"]
    payload = _person_adds(world, TRIAGE, issue, "risk-type::competitive")
    reaction, _, writes = _react(world, payload)
    assert reaction.status == "ignored" and "triggers nothing" in reaction.reason and writes == 0


# ---------------------------------------------------------------- ignored payloads


@pytest.mark.parametrize(
    ("project", "description", "labels", "why"),
    [
        (ACCOUNTS, None, ["customer-note"], "none of them a gl-csm label"),
        ("someone/else", None, ["triage::needed"], "not in customer-success/accounts"),
        (ACCOUNTS, "A person's issue", ["triage::needed"], "no gl-csm:tracking marker"),
        (ACCOUNTS, "<!-- gl-csm:tracking:nobody -->", ["triage::needed"], "not in the registry"),
    ],
    ids=["not-our-label", "other-project", "not-our-issue", "unknown-account"],
)
def test_ignored_with_a_reason(
    world: World, project: str, description: str | None, labels: list[str], why: str
) -> None:
    world.add("acme", "Acme")
    world.run()
    issue = _tracking(world, "acme")
    if description is not None:
        # A person's issue (the gateway only checks a token is in the text).
        issue = world.person().create_issue(ACCOUNTS, "Notes", description, description[:8])
    world.person().update_issue(ACCOUNTS, issue["iid"], add_labels=",".join(labels))
    fresh = world.person().issue(ACCOUNTS, issue["iid"])
    payload = issue_hook(project, fresh, added=labels)
    reaction, outcome, writes = _react(world, payload)
    assert reaction.status == "ignored" and why in reaction.reason, reaction.reason
    assert writes == 0 and outcome.exit_code == 0


def test_other_hooks_are_ignored(world: World) -> None:
    reaction = plan_react(
        world.gateway, world.settings, world.today, {"object_kind": "note", "project": {}}
    )
    assert reaction.status == "ignored" and "'note' hook" in reaction.reason


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([], "a JSON object"),
        ({"project": {}}, '"object_kind"'),
        ({"object_kind": "issue", "object_attributes": {"iid": 1}}, "path_with_namespace"),
        ({"object_kind": "issue", "project": {"path_with_namespace": "a/b"}}, "iid"),
        (
            {
                "object_kind": "issue",
                "project": {"path_with_namespace": "a/b"},
                "object_attributes": {"iid": 1},
                "changes": {"labels": ["bug"]},
            },
            "changes.labels",
        ),
    ],
)
def test_malformed_payloads_name_what_was_expected(payload: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_event(payload, "--payload hook.json")
    assert "--payload hook.json" in str(info.value) and expected in str(info.value)
    assert isinstance(info.value, UsageError)  # exit 2


# ---------------------------------------------------------------- action::promote


def test_action_promote_promotes_then_removes_the_label(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    registry = onboard_prospect(gateway, settings, workdir)
    registry.write_text(
        registry.read_text() + f"customer_since: {(TODAY - timedelta(days=3)).isoformat()}\n"
    )
    tracking = gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:initrode")
    assert tracking is not None
    gateway.update_issue(ACCOUNTS, tracking["iid"], add_labels="action::promote")
    fresh = gateway.issue(ACCOUNTS, tracking["iid"])
    payload = issue_hook(ACCOUNTS, fresh, added=["action::promote"])

    reaction, outcome = react(gateway, settings, TODAY, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0, outcome.failures
    assert gateway.project("account-management/customers/initrode") is not None
    after = gateway.issue(ACCOUNTS, tracking["iid"])
    assert "action::promote" not in after["labels"]
    assert "lifecycle::onboarding" in after["labels"]
    before = gateway.stats.writes
    again, _ = react(gateway, settings, TODAY, payload)
    assert gateway.stats.writes == before and again.status == "ignored"
    assert "no longer on the issue" in again.reason


def test_dry_run_writes_nothing(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "triage::needed")
    _, outcome, writes = _react(world, payload, dry_run=True)
    assert writes == 0 and outcome.changes and _open(world, TRIAGE, "triage") == {}


def test_a_reaction_reads_the_accounts_projects_recorded_issues_once(world: World) -> None:
    """The card records the iids of the account's issues in the accounts project (here
    its renewal reviews): one read serves the reminders and the will-churn checklist
    (lookup.hinted_indexes), and no full listing is needed."""
    world.add("acme", "Acme", renewal_date=date(2027, 3, 31))
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "triage::needed")
    logged = len(world.sandbox.request_log)
    reaction, outcome, _ = _react(world, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0
    listings = [
        path
        for method, path in world.sandbox.request_log[logged:]
        if method == "GET" and path == f"/api/v4/projects/{ACCOUNTS.replace('/', '%2F')}/issues"
    ]
    assert len(listings) == 1, listings


def test_one_account_reaction_does_not_list_the_whole_portfolio(world: World) -> None:
    """A webhook for one account reads about one page per internal project, not
    ceil(N/100) pages of every tracking issue (2,000-account portfolios)."""
    for i in range(250):
        world.add(f"acct-{i:04d}", f"Account {i}")
    world.add("acme", "Acme")
    world.run()
    payload = _person_adds(world, ACCOUNTS, _tracking(world, "acme"), "triage::needed")
    before = world.gateway.stats.reads
    reaction, outcome, _ = _react(world, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0
    # 3 internal-project checks + the issue read back + 3 one-page listings (+ notes)
    # + the portfolio history (folder listing and one file, for the card's trend)
    # + the re-reads just before opening the triage issue and its milestone
    # + the read after it that no concurrent run opened it too (gitlab/issues.py).
    assert world.gateway.stats.reads - before <= 14
    assert set(_open(world, TRIAGE, "triage")) == {"acme"}


def test_resolved_after_the_will_churn_checklist_closes_with_the_customer_lost(
    world: World,
) -> None:
    """handbook 002 "At-Risk Conclusion: Customer is lost": once the will-churn checklist
    set `lifecycle::will-churn` (the registry still says nothing), `triage::resolved` is
    accepted: the refusal reads the assessed lifecycle, not only the registry's."""
    from gl_csm.services.moves.will_churn import STEPS

    world.add("initech", "Initech", **RED)
    world.run(D("2026-11-23"))
    tracking = _tracking(world, "initech")
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="lifecycle::will-churn")
    world.run(D("2026-11-24"))  # the checklist opens; the label waits for its boxes
    checklist = markers.index_by_marker(world.issues(ACCOUNTS), "will-churn")["initech"]
    body = checklist["description"]
    for step in STEPS:
        body = body.replace(f"- [ ] {step}", f"- [x] {step}")
    world.person().update_issue(ACCOUNTS, checklist["iid"], description=body)
    world.run(D("2026-11-25"))
    assert "lifecycle::will-churn" in _tracking(world, "initech")["labels"]

    triage = _open(world, TRIAGE, "triage")["initech"]
    payload = _person_adds(world, TRIAGE, triage, "triage::resolved")
    reaction, outcome, _ = _react(world, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0, reaction.line
    assert _open(world, TRIAGE, "triage") == {}
    bodies = [n["body"] for n in world.notes(TRIAGE, triage["iid"])]
    assert not any("resolve-refused" in b for b in bodies)
    closing = [b for b in bodies if "initech:closed" in b]
    assert len(closing) == 1 and "the customer is lost" in closing[0]


def test_triage_resolved_on_a_still_red_account_says_it_is_refused(world: World) -> None:
    """The reaction line says what the plan does: refused while red and not lost."""
    world.add("initech", "Initech", **RED)
    world.run()
    issue = _open(world, TRIAGE, "triage")["initech"]
    payload = _person_adds(world, TRIAGE, issue, "triage::resolved")
    reaction, outcome, _ = _react(world, payload)
    assert outcome.exit_code == 0 and "initech" in _open(world, TRIAGE, "triage")
    assert "refused, the account is still red" in reaction.reason
    assert "close it with the resolution format" not in reaction.reason
