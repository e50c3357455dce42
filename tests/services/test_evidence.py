"""Evidence from the collaboration projects in the daily triage (SPEC 4.1) and the paid
account still in pre-sales (SPEC 5 Promote), on the strict sandbox (GitLab Free)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.config import Settings, load_settings
from gl_csm.domain.rules import PromoteRules
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.card_data import card_data
from gl_csm.services.triage import evidence as service
from gl_csm.services.triage.run import plan_triage
from tests.conftest import TODAY
from tests.services.onboarding_support import onboard_prospect
from tests.services.triage_world import ACCOUNTS, World

D = date.fromisoformat
POST = "account-management/customers"
PRE = "account-management/pre-sales"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _project(world: World, path: str) -> dict:
    world.sandbox.seed(projects=[(path, "private")])
    project = world.person().project(path)
    assert project is not None
    return project


def _issue(
    world: World, path: str, title: str, author: str, labels: str = "", **fields: Any
) -> dict:
    gw = world.person()
    made = gw.gl.http_post(
        f"/projects/{gw.project(path)['id']}/issues",
        post_data={"title": title, "labels": labels, **fields},
    )
    world.sandbox.seed(users=[author])
    store = world.sandbox.store
    store.project(str(made["project_id"]))["issues"][made["iid"]]["author_id"] = (
        store.user_by_username(author)["id"]
    )
    return made


def _tracking(world: World, slug: str) -> dict:
    issue = dict(markers.index_by_marker(world.issues(ACCOUNTS), "tracking")[slug])
    # References are broken by a zero-width space (templates.inline), so GitLab adds no
    # "mentioned in" note to the customer's issue: read the card without it.
    issue["description"] = (issue.get("description") or "").replace("\u200b", "")
    return issue


def _notes(world: World, slug: str) -> list[str]:
    return [n["body"] for n in world.notes(ACCOUNTS, _tracking(world, slug)["iid"])]


def test_last_call_from_a_meeting_issue_whose_date_passed(world: World) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    _project(world, f"{POST}/acme")
    _issue(world, f"{POST}/acme", "Monthly check-in - 2026-11-20", "alice", "meeting")
    _issue(world, f"{POST}/acme", "Quarterly review - 2026-11-30", "alice", "meeting")
    world.run()
    card = _tracking(world, "acme")["description"]
    # The registry says 2026-11-10; the call of 2026-11-20 is newer, the one of the
    # 30th is still ahead.
    assert "Last call: 2026-11-20 from account-management/customers/acme#1" in card, card
    assert "last call on 2026-11-20" in card
    # The call ahead counts the day after its date, without being listed again.
    outcome, _, _ = world.run(D("2026-12-01"))
    assert (
        "Last call: 2026-11-30 from account-management/customers/acme#2"
        in (_tracking(world, "acme")["description"])
    ), [c.to_text() for c in outcome.changes]


def test_registry_newer_than_the_meeting_keeps_the_registry(world: World) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    _project(world, f"{POST}/acme")
    _issue(world, f"{POST}/acme", "Check-in - 2026-11-02", "alice", "meeting")
    world.run()
    card = _tracking(world, "acme")["description"]
    assert "last call on 2026-11-10" in card and "Evidence from GitLab" not in card


def test_onboarding_completed_from_every_box_ticked(world: World) -> None:
    world.add(
        "newco",
        "New Co",
        project=f"{POST}/newco",
        customer_since=D("2026-10-01"),
        onboarding_completed=None,
    )
    _project(world, f"{POST}/newco")
    checklist = _issue(
        world,
        f"{POST}/newco",
        "Onboarding checklist",
        "alice",
        "onboarding",
        description="<!-- gl-csm:project-issue:newco/onboarding-checklist -->\n- [x] a\n- [ ] b\n",
    )
    world.run()
    assert "**Onboarding completed:** -" in _tracking(world, "newco")["description"]
    world.today = D("2026-11-24")  # the CSM ticks the last box the next day
    world.person().update_issue(
        f"{POST}/newco",
        checklist["iid"],
        description="<!-- gl-csm:project-issue:newco/onboarding-checklist -->\n- [x] a\n- [x] b\n",
    )
    world.run(D("2026-11-24"))
    card = _tracking(world, "newco")["description"]
    assert "**Onboarding completed:** 2026-11-24" in card, card
    assert "Onboarding completed: 2026-11-24 from account-management/customers/newco#1" in card
    assert "- Onboarding: 2026-11-24 (54 days)" in card


def test_customer_issue_waiting_tells_the_csm_once_and_an_answered_one_not(
    world: World,
) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    _project(world, f"{POST}/acme")
    # Monday 2026-11-23: two customer questions; the team answers the second.
    _issue(world, f"{POST}/acme", "Runner autoscaling?", "hans")
    answered = _issue(world, f"{POST}/acme", "LDAP sync?", "hans")
    _issue(world, f"{POST}/acme", "Our own agenda", "alice")  # the team's: not waiting
    world.run()
    gw = world.person()
    note = gw.gl.http_post(
        f"/projects/{answered['project_id']}/issues/{answered['iid']}/notes",
        post_data={"body": "Here is how."},
    )
    store = world.sandbox.store
    for n in store.project(str(answered["project_id"]))["issues"][answered["iid"]]["notes"]:
        if n["id"] == note["id"]:
            n["author_id"] = store.user_by_username("alice")["id"]
    world.run(D("2026-11-24"))
    assert not [n for n in _notes(world, "acme") if "business days" in n]
    world.run(D("2026-11-25"))  # two business days later
    told = [n for n in _notes(world, "acme") if "business days" in n]
    assert len(told) == 1 and "@alice" in told[0] and "Runner autoscaling" in told[0], told
    outcome, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]
    world.run(D("2026-11-26"))
    assert len([n for n in _notes(world, "acme") if "business days" in n]) == 1


def test_reply_days_is_a_validated_rule(tmp_path: Path) -> None:
    from tests.conftest import CONFIG

    (tmp_path / "accounts").mkdir()
    (tmp_path / "gl-csm.yml").write_text(CONFIG + "rules:\n  collaboration: {reply_days: 0}\n")
    with pytest.raises(
        Exception, match=r"rules.collaboration.reply_days: expected an integer >= 1"
    ):
        load_settings(tmp_path / "gl-csm.yml", environ={})
    (tmp_path / "gl-csm.yml").write_text(CONFIG + "rules:\n  promote: {when_paid: later}\n")
    with pytest.raises(ConfigError, match=r"rules.promote.when_paid: expected one of: ask, auto"):
        load_settings(tmp_path / "gl-csm.yml", environ={})


def test_noop_rerun_reads_two_group_listings_more(world: World) -> None:
    """README "Triage", read budget: the evidence costs ONE listing of the post-sales
    group's issues and ONE of its closed milestones (one page each here); a same-day
    rerun reads them again and nothing else: 3 internal projects + 3 listings + the
    history folder and its file = 8, + 2 = 10 reads."""
    for slug in ("acme", "globex"):
        world.add(slug, slug.title(), project=f"{POST}/{slug}")
        _project(world, f"{POST}/{slug}")
        _issue(world, f"{POST}/{slug}", "Check-in - 2026-11-20", "alice", "meeting")
        _issue(world, f"{POST}/{slug}", "A question", "hans")
    world.run()
    outcome, _, stats = world.run()
    assert stats.writes == 0 and outcome.changes == []
    assert stats.reads == 10
    # The next day, nothing updated: the listings since the last recorded day, no more.
    outcome, _, stats = world.run(D("2026-11-24"))
    assert stats.writes == 0 and stats.reads == 10, [c.to_text() for c in outcome.changes]


class _Recording:
    def __init__(self) -> None:
        self.queries: list[tuple[str, dict]] = []

    def group_issues(self, group: str, **query: Any) -> list[dict]:
        self.queries.append((group, query))
        return []

    def group_milestones(self, group: str, **query: Any) -> list[dict]:
        self.queries.append((f"{group} milestones", query))
        return []


def test_listing_reads_since_the_newest_day_a_card_recorded(world: World) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    _project(world, f"{POST}/acme")
    _issue(world, f"{POST}/acme", "Check-in - 2026-11-20", "alice", "meeting")
    gw = _Recording()
    service.read_listing(gw, world.settings, [])  # type: ignore[arg-type]
    assert gw.queries == [(POST, {"state": "all"})]  # never read: everything once
    world.run()
    tracking = _tracking(world, "acme")
    assert card_data(tracking["description"])["evidence"]["read"] == "2026-11-23"
    service.read_listing(gw, world.settings, [tracking])  # type: ignore[arg-type]
    assert gw.queries[-1] == (POST, {"state": "all", "updated_after": "2026-11-23T00:00:00Z"})
    # The closed milestones from the same day (one listing, the projects' included).
    service.read_milestones(gw, world.settings, [])  # type: ignore[arg-type]
    assert gw.queries[-1] == (f"{POST} milestones", {"state": "closed", "updated_after": None})
    service.read_milestones(gw, world.settings, [tracking])  # type: ignore[arg-type]
    assert gw.queries[-1] == (
        f"{POST} milestones",
        {"state": "closed", "updated_after": "2026-11-23T00:00:00Z"},
    )


def _milestone(world: World, path: str, key: str, title: str) -> dict:
    """A template milestone of the collaboration project (its hidden marker, as onboard
    writes it: project_templates/*/manifest.yml)."""
    gw = world.person()
    return gw.gl.http_post(
        f"/projects/{gw.project(path)['id']}/milestones",
        post_data={"title": title, "description": f"<!-- gl-csm:project-milestone:x/{key} -->"},
    )


def _close(world: World, path: str, milestone: dict) -> None:
    gw = world.person()
    gw.gl.http_put(
        f"/projects/{gw.project(path)['id']}/milestones/{milestone['id']}",
        post_data={"state_event": "close"},
    )


def test_milestones_closed_with_no_issue_on_them_give_time_to_value(world: World) -> None:
    """SPEC 4.1, handbook 004 "Infrastructure Ready" and "Outcome Achieved": a template
    milestone closed with no issue on it is read from the group's milestone listing
    (doc/api/group_milestones.md ``include_descendants``); its day is its ``updated_at``
    (GitLab has no ``closed_at`` on milestones), shown with the day count and the
    milestone; the figure stays when the milestone is later reopened."""
    world.add("newco", "New Co", project=f"{POST}/newco", customer_since=D("2026-10-01"))
    _project(world, f"{POST}/newco")
    infra = _milestone(world, f"{POST}/newco", "infrastructure-ready", "Infrastructure ready")
    outcome_ms = _milestone(world, f"{POST}/newco", "outcome-achieved", "Outcome achieved")
    other = _milestone(world, f"{POST}/newco", "first-value", "First value")
    world.run()
    card = _tracking(world, "newco")["description"]
    assert "- Infrastructure Ready: not recorded yet" in card, card
    world.today = D("2026-11-25")
    _close(world, f"{POST}/newco", infra)
    _close(world, f"{POST}/newco", other)  # no time-to-value KPI of its own
    world.run()
    card = _tracking(world, "newco")["description"]
    assert (
        '- Infrastructure Ready: 2026-11-25 (55 days): the milestone "Infrastructure ready" '
        "closed" in card
    ), card
    assert "- Outcome Achieved: not recorded yet" in card
    recorded = card_data(card)["evidence"]["milestones"]
    assert recorded == {"infrastructure-ready": ["2026-11-25", "Infrastructure ready"]}
    world.today = D("2027-03-01")
    _close(world, f"{POST}/newco", outcome_ms)
    world.run()
    card = _tracking(world, "newco")["description"]
    assert (
        '- Outcome Achieved: 2027-03-01 (151 days): the milestone "Outcome achieved" closed' in card
    ), card
    # Reopened (edited, listed again as active): the day it was reached stays.
    gw = world.person()
    gw.gl.http_put(
        f"/projects/{gw.project(f'{POST}/newco')['id']}/milestones/{infra['id']}",
        post_data={"state_event": "activate"},
    )
    world.run(D("2027-03-02"))
    assert "2026-11-25 (55 days)" in _tracking(world, "newco")["description"]
    outcome, _, stats = world.run()
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]


def test_a_milestone_of_another_group_or_project_is_not_the_accounts(world: World) -> None:
    """services/triage/evidence.py ``milestones_by_project``: the project's path is read
    from the milestone's ``web_url`` from the listed group on (a relative URL root before
    it is left out); group milestones are nobody's."""
    listed = [
        {"project_id": 7, "web_url": f"https://h/gitlab/{POST}/Acme/-/milestones/2"},
        {"project_id": 8, "web_url": f"https://h/{POST}/sub/globex/-/milestones/1"},
        {"group_id": 3, "web_url": f"https://h/groups/{POST}/-/milestones/1"},
        {"project_id": 9, "web_url": "https://h/elsewhere/acme/-/milestones/1"},
    ]
    found = service.milestones_by_project(listed, POST)
    assert {k: [m["project_id"] for m in v] for k, v in found.items()} == {
        f"{POST}/acme": [7],
        f"{POST}/sub/globex": [8],
    }


# ---------------------------------------------------------------- paid, still in pre-sales


def _paid_in_pre_sales(world: World) -> None:
    world.add(
        "nakatomi",
        "Nakatomi",
        project=f"{PRE}/nakatomi",
        customer_since=D("2026-11-20"),
        onboarding_completed=None,
    )


def test_paid_account_in_pre_sales_asks_the_ae_and_csm_once(world: World) -> None:
    _paid_in_pre_sales(world)
    _project(world, f"{PRE}/nakatomi")
    world.run()  # creates the tracking issue
    world.run(D("2026-11-24"))
    asks = [n for n in _notes(world, "nakatomi") if "action::promote" in n]
    assert len(asks) == 1 and "@carol" in asks[0] and "@alice" in asks[0], asks
    outcome, _, stats = world.run(D("2026-11-25"))
    assert stats.writes == 0, [c.to_text() for c in outcome.changes]
    assert len([n for n in _notes(world, "nakatomi") if "action::promote" in n]) == 1
    # Noticed from the registry's `project:` (onboard and promote write it back): no
    # read of the project. 3 internal projects + 3 listings + the history folder and its
    # file + the post-sales group's issues and closed milestones = 10, as for any account.
    assert stats.reads == 10


def test_an_account_in_post_sales_is_not_asked(world: World) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    world.run()
    world.run(D("2026-11-24"))
    assert not [n for n in _notes(world, "acme") if "action::promote" in n]


def test_when_paid_auto_promotes_in_the_same_run(
    gateway: Gateway, settings: Settings, workdir: Path
) -> None:
    registry = onboard_prospect(gateway, settings, workdir)
    registry.write_text(registry.read_text() + f"customer_since: {TODAY.isoformat()}\n")
    auto = dataclasses.replace(
        settings, rules=dataclasses.replace(settings.rules, promote=PromoteRules("auto"))
    )
    out = plan_triage(gateway, auto, TODAY).plan.apply(gateway)
    assert out.exit_code == 0, out.failures
    project = gateway.project(f"{POST}/initrode")
    assert project is not None and project["path_with_namespace"] == f"{POST}/initrode"
    assert f"project: {POST}/initrode" in registry.read_text()
    tracking = markers.index_by_marker(gateway.issues(ACCOUNTS, state="all"), "tracking")
    notes = gateway.notes(ACCOUNTS, tracking["initrode"]["iid"])
    assert not [n for n in notes if "action::promote" in n["body"]]  # promoted, not asked
    # The next run lists the moved project's issues in the post-sales group for the
    # first time: its card records them (the meetings ahead) once; then nothing.
    plan_triage(gateway, auto, TODAY).plan.apply(gateway)
    before = gateway.stats.writes
    again = plan_triage(gateway, auto, TODAY).plan.apply(gateway)
    assert gateway.stats.writes == before, [c.to_text() for c in again.changes]


def test_assess_with_gitlab_says_which_value_came_from_which_issue(world: World) -> None:
    from gl_csm.services.assess import recorded_evidence, render_json, render_text, run_assess

    world.add("acme", "Acme", project=f"{POST}/acme")
    _project(world, f"{POST}/acme")
    _issue(world, f"{POST}/acme", "Monthly check-in - 2026-11-20", "alice", "meeting")
    world.run()
    s = world.settings
    offline = run_assess(s.accounts_dir, s.rules, world.today)
    assert "Evidence from GitLab" not in render_text(offline)
    run = run_assess(
        s.accounts_dir, s.rules, world.today, evidence=recorded_evidence(world.gateway, s)
    )
    text = render_text(run)
    assert (
        "acme: engagement.last_call 2026-11-20 from account-management/customers/acme#1" in text
    ), text
    row = [r for r in json.loads(render_json(run)) if r["slug"] == "acme"][0]
    assert row["evidence"] == [
        {
            "key": "engagement.last_call",
            "value": "2026-11-20",
            "source": "account-management/customers/acme#1",
        }
    ]
    assert "evidence" not in json.loads(render_json(offline))[0]


def test_a_shard_lists_since_its_own_last_run(world: World, monkeypatch: Any) -> None:
    from gl_csm.services.triage.shards import in_shard

    slugs = ["acme", "soylent"]  # shard 1 of 2 and shard 2 of 2 (crc32)
    for slug in slugs:
        world.add(slug, slug.title(), project=f"{POST}/{slug}")
        _project(world, f"{POST}/{slug}")
        _issue(world, f"{POST}/{slug}", "Check-in - 2026-11-20", "alice", "meeting")
    world.run()
    first = next(s for s in slugs if in_shard(s, (1, 2)))
    other = next(s for s in slugs if not in_shard(s, (1, 2)))
    shard_of_other = (2, 2)
    # Shard 1 runs on the 25th and finds a new call: its card records the 25th.
    world.today = D("2026-11-25")
    _issue(world, f"{POST}/{first}", "Check-in - 2026-11-24", "alice", "meeting")
    world.run(D("2026-11-25"), shard=(1, 2))
    assert card_data(_tracking(world, first)["description"])["evidence"]["read"] == "2026-11-25"
    # Shard 2 still lists since its own last change (the 23rd): nothing it missed.
    queries: list[dict] = []
    original = world.gateway.group_issues

    def recording(group: str, **query: Any) -> list[dict]:
        queries.append(query)
        return original(group, **query)

    monkeypatch.setattr(world.gateway, "group_issues", recording)
    world.run(D("2026-11-25"), shard=shard_of_other)
    assert queries == [{"state": "all", "updated_after": "2026-11-23T00:00:00Z"}], (other, queries)


def test_a_missing_post_sales_group_is_a_config_error_naming_the_key(
    world: World, monkeypatch: Any
) -> None:
    world.add("acme", "Acme", project=f"{POST}/acme")
    groups = dataclasses.replace(world.settings.groups, post_sales="account-management/gone")
    monkeypatch.setattr(world, "settings", dataclasses.replace(world.settings, groups=groups))
    with pytest.raises(ConfigError, match=r"groups.post_sales: no group account-management/gone"):
        world.run()
    assert world.gateway.stats.writes == 0


def test_the_milestone_listing_of_a_missing_group_is_the_same_config_error(
    world: World,
) -> None:
    """doc/api/group_milestones.md: a group the token cannot read answers 404 (as the
    issues listing): the same ConfigError naming groups.post_sales, nothing written."""
    groups = dataclasses.replace(world.settings.groups, post_sales="account-management/gone")
    settings = dataclasses.replace(world.settings, groups=groups)
    with pytest.raises(ConfigError, match=r"groups.post_sales: no group account-management/gone"):
        service.read_milestones(world.gateway, settings, [])
    assert world.gateway.stats.writes == 0
