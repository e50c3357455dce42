"""The whole lifecycle against a sandbox as strict as GitLab, on
Free and on Premium, and with a GitLab whose issue search finds nothing at all.

GitLab's issue search is full-text (app/finders/issuable_finder.rb,
app/models/concerns/pg_full_text_searchable.rb): hidden markers are never found. Free
keeps one assignee (ee/app/models/ee/issue.rb ``allows_multiple_assignees?``) and drops
assignees who cannot read the project (app/services/issuable_base_service.rb). The bot
must still make every object once: setup, onboard each sample account twice, promote,
triage twice, every react trigger delivered twice, handoff twice, disengage twice,
report --issue twice; then every bot marker exists once (triage and escalation issues:
one open per account), one project per account, and a final rerun writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Outcome, Plan
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.promote import plan_promote
from gl_csm.services.moves.disengage import plan_disengage
from gl_csm.services.moves.handoff import plan_handoff
from gl_csm.services.react import react
from gl_csm.services.setup import plan_setup
from gl_csm.services.triage.report import ReportInput, plan_report_issue, render_report
from gl_csm.services.triage.run import plan_triage
from tests.conftest import TODAY
from tests.services.react_support import issue_hook

ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
ESCALATIONS = "customer-success/escalations"
GROUPS = ("account-management/pre-sales", "account-management/customers")
#: Marker kinds whose key stands for one episode at a time: one *open* issue each.
EPISODES = ("triage", "escalation")


def _ok(outcome: Outcome) -> Outcome:
    assert outcome.exit_code == 0, [f.to_text() for f in outcome.failures]
    return outcome


def _apply(gw: Gateway, plan: Plan) -> Outcome:
    return _ok(plan.apply(gw))


class Life:
    """One GitLab (in-process sandbox) and one CS-ops repository."""

    def __init__(self, workdir: Path, settings: Settings, edition: str, search: str) -> None:
        self.workdir = workdir
        self.settings = dataclasses.replace(settings, gitlab_edition=edition)
        self.sandbox = Sandbox(edition=edition, search=search)
        seed_sandbox(self.sandbox, self.settings, extra_users=["erin"])
        # erin (the new CSM of the handoff) works in the internal projects too.
        self.sandbox.seed(
            members=[(p, "erin", 20) for p in (ACCOUNTS, TRIAGE, ESCALATIONS)],
        )
        self.gw = Gateway.for_transport(SandboxAdapter(self.sandbox))
        self.gw._create_wait_max = 0.0

    def slugs(self) -> list[str]:
        return sorted(p.stem for p in (self.workdir / "accounts").glob("*.yml"))

    def onboard_all(self) -> None:
        for slug in self.slugs():
            try:
                plan = plan_onboard(self.gw, self.settings, slug, TODAY)
            except UsageError as exc:
                assert "digital" in str(exc), exc  # a digital customer has no project
                continue
            _apply(self.gw, plan)

    def triage(self) -> ReportInput:
        run = plan_triage(self.gw, self.settings, TODAY)
        outcome = _ok(run.plan.apply(self.gw))
        rows = run.extra([f.account for f in outcome.failures])["accounts"]
        return ReportInput(accounts={r["slug"]: r for r in rows})

    def report(self, data: ReportInput) -> None:
        body = render_report(data, TODAY, self.settings.rules)
        _apply(self.gw, plan_report_issue(self.gw, self.settings, body, TODAY))

    def deliver(self, project: str, issue: dict, label: str) -> None:
        """A person adds ``label``; GitLab delivers the hook twice (a retry)."""
        if label not in (issue.get("labels") or []):
            issue = self.gw.update_issue(project, issue["iid"], add_labels=label)
        hook = issue_hook(project, issue, added=[label])
        for _ in range(2):
            _ok(react(self.gw, self.settings, TODAY, hook)[1])

    def bot_issue(self, project: str, kind: str, slug: str, *, state: str = "all") -> dict:
        found = markers.index_by_marker(self.gw.issues(project, state=state), kind).get(slug)
        assert found is not None, (project, kind, slug)
        return found

    def paid(self, slug: str, since: str = "2026-11-20") -> None:
        file = self.workdir / "accounts" / f"{slug}.yml"
        file.write_text(file.read_text() + f"customer_since: {since}\n")

    def writes_of(self, step) -> int:  # type: ignore[no-untyped-def]
        before = self.gw.stats.writes
        step()
        return self.gw.stats.writes - before


def lifecycle(life: Life) -> None:
    gw, settings = life.gw, life.settings
    _apply(gw, plan_setup(gw, settings))
    life.onboard_all()
    life.onboard_all()

    # Promote: tyrell pays (CLI and the action::promote trigger below).
    life.paid("tyrell")
    for _ in range(2):
        _apply(gw, plan_promote(gw, settings, "tyrell", TODAY))

    data = life.triage()
    data = life.triage()

    # Every react trigger, each delivered twice.
    tracking = lambda slug: life.bot_issue(ACCOUNTS, "tracking", slug)  # noqa: E731
    life.deliver(ACCOUNTS, tracking("umbrella"), "sentiment::red")
    life.deliver(ACCOUNTS, tracking("globex"), "triage::needed")
    life.deliver(ACCOUNTS, tracking("initech"), "escalation::requested")
    life.deliver(
        TRIAGE, life.bot_issue(TRIAGE, "triage", "umbrella", state="opened"), "triage::resolved"
    )
    life.deliver(ACCOUNTS, tracking("tyrell"), "action::promote")

    for _ in range(2):
        _apply(gw, plan_handoff(gw, settings, "acme-corp", "erin", TODAY))
        _apply(gw, plan_disengage(gw, settings, "soylent", TODAY, reason="budget"))
    data = life.triage()
    life.report(data)
    life.report(data)


def check_once(life: Life) -> None:
    gw = life.gw
    seen: Counter[tuple[str, str]] = Counter()
    open_episodes: Counter[tuple[str, str]] = Counter()
    projects = [ACCOUNTS, TRIAGE, ESCALATIONS]
    for group in GROUPS:
        projects += [
            p["path_with_namespace"]
            for p in gw.list(f"/groups/{group.replace('/', '%2F')}/projects", "list projects")
        ]
    for project in projects:
        for issue in gw.issues(project, state="all"):
            for kind, key in markers.markers_in(issue.get("description")):
                if kind in EPISODES:
                    if issue["state"] == "opened":
                        open_episodes[(kind, key)] += 1
                else:
                    seen[(kind, key)] += 1
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, twice
    assert all(n == 1 for n in open_episodes.values()), open_episodes
    assert ("report", "portfolio") in seen and ("disengage", "soylent") in seen
    assert ("handoff", "acme-corp/erin") in seen

    # One project per account, wherever it went.
    paths = [p for p in projects if p.startswith("account-management/")]
    names = Counter(p.rpartition("/")[2] for p in paths)
    assert names and all(n == 1 for n in names.values()), names
    assert "account-management/customers/tyrell" in paths


def final_rerun_writes_nothing(life: Life) -> None:
    def again() -> None:
        data = life.triage()
        life.onboard_all()
        life.report(data)
        _apply(life.gw, plan_promote(life.gw, life.settings, "tyrell", TODAY))
        _apply(life.gw, plan_handoff(life.gw, life.settings, "acme-corp", "erin", TODAY))
        _apply(life.gw, plan_disengage(life.gw, life.settings, "soylent", TODAY))

    assert life.writes_of(again) == 0


@pytest.mark.parametrize(
    ("edition", "search"),
    [("free", "fulltext"), ("premium", "fulltext"), ("free", "none"), ("premium", "none")],
)
def test_lifecycle_makes_everything_once(
    workdir: Path, settings: Settings, edition: str, search: str
) -> None:
    life = Life(workdir, settings, edition, search)
    lifecycle(life)
    check_once(life)
    final_rerun_writes_nothing(life)


class ProxyAdapter(BaseAdapter):
    """A reverse proxy: the bot talks to ``front``; GitLab behind it knows itself as
    ``back`` (its external_url), so every web_url it returns names ``back``."""

    def __init__(self, inner: BaseAdapter, front: str, back: str) -> None:
        super().__init__()
        self.inner, self.front, self.back = inner, front, back

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = (request.url or "").replace(self.front, self.back, 1)
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()


def test_links_are_the_same_whatever_url_the_bot_uses(workdir: Path, settings: Settings) -> None:
    """Links come from GitLab's web_url (doc/api/projects.md, issues.md:
    `web_url` is the instance's external URL), not from the URL gl-csm uses; a run
    through a proxy after a direct one writes nothing."""
    life = Life(workdir, settings, "free", "none")
    direct = "https://gitlab.example.com"
    life.gw = Gateway.for_transport(SandboxAdapter(life.sandbox), url=direct)
    _apply(life.gw, plan_setup(life.gw, life.settings))
    for slug in ("tyrell", "soylent"):
        _apply(life.gw, plan_onboard(life.gw, life.settings, slug, TODAY))
    life.triage()
    _apply(life.gw, plan_disengage(life.gw, life.settings, "soylent", TODAY))
    # SPEC 5: the checklist iid disengage recorded in the card does not make the next
    # triage rewrite it; what follows is the URL alone.
    assert life.writes_of(life.triage) == 0
    checklist = life.bot_issue(ACCOUNTS, "disengage", "soylent")["description"]
    assert f"{direct}/account-management/customers/soylent" in checklist

    front = "http://proxy.internal:8080"
    life.gw = Gateway.for_transport(
        ProxyAdapter(SandboxAdapter(life.sandbox), front, direct), url=front
    )
    life.gw._create_wait_max = 0.0

    def again() -> None:
        life.triage()
        for slug in ("tyrell", "soylent"):
            _apply(life.gw, plan_onboard(life.gw, life.settings, slug, TODAY))
        _apply(life.gw, plan_disengage(life.gw, life.settings, "soylent", TODAY))

    assert life.writes_of(again) == 0
    texts = [i["description"] or "" for i in life.gw.issues(ACCOUNTS, state="all")]
    assert texts and not any(front in t for t in texts)


@pytest.mark.parametrize("edition", ["free", "premium"])
def test_scoped_label_conflict_last_added_wins(
    workdir: Path, settings: Settings, edition: str
) -> None:
    """SPEC 7.1: Free keeps `sentiment::green` and `sentiment::red` both
    (ee/app/services/ee/issuable_base_service.rb: exclusivity is Premium); the bot keeps
    the one a person added last (doc/api/resource_label_events.md) and removes the
    other. On Premium GitLab already did, and no label event is read."""
    life = Life(workdir, settings, edition, "fulltext")
    _apply(life.gw, plan_setup(life.gw, life.settings))
    life.triage()
    tracking = life.bot_issue(ACCOUNTS, "tracking", "umbrella")
    for label in ("sentiment::green", "sentiment::red"):
        life.gw.update_issue(ACCOUNTS, tracking["iid"], add_labels=label)
    both = life.gw.issue(ACCOUNTS, tracking["iid"])["labels"]
    assert ("sentiment::green" in both) == (edition == "free")

    life.triage()
    labels = life.gw.issue(ACCOUNTS, tracking["iid"])["labels"]
    assert "sentiment::red" in labels and "sentiment::green" not in labels
    assert "health::red" in labels  # SPEC 4: the label's red sentiment makes it red
    log = [path for _, path in life.sandbox.request_log]
    assert any("resource_label_events" in p for p in log) == (edition == "free")
    # SPEC 5: the triage issue opened by the red sentiment is not rewritten on a second
    # run of the same day (its due date and "since" are dated by the bot's day).
    assert life.writes_of(life.triage) == 0
    assert "sentiment::green" not in life.gw.issue(ACCOUNTS, tracking["iid"])["labels"]


@pytest.mark.parametrize(
    "stale",
    [
        "account-management/pre-sales/tyrell",  # the old path: GitLab's redirect
        "account-management/pre-sales/tyrell-corp",  # never existed: found by slug
    ],
)
def test_a_stale_project_path_is_followed_and_corrected(
    workdir: Path, settings: Settings, stale: str
) -> None:
    """After a transfer whose registry write-back was never committed,
    the API finds the project by its old path (app/models/concerns/routable.rb,
    follow_redirects), else the bot looks in both collaboration groups; never a second
    customer project (dry run included); verify, promote and handoff work on it."""
    from gl_csm.services.collaboration.verify import plan_verify

    life = Life(workdir, settings, "free", "none")
    gw, st = life.gw, life.settings
    _apply(gw, plan_setup(gw, st))
    _apply(gw, plan_onboard(gw, st, "tyrell", TODAY))
    life.paid("tyrell")
    _apply(gw, plan_promote(gw, st, "tyrell", TODAY))
    file = workdir / "accounts" / "tyrell.yml"
    moved = "account-management/customers/tyrell"
    assert f"project: {moved}" in file.read_text()
    file.write_text(file.read_text().replace(f"project: {moved}", f"project: {stale}"))

    dry = plan_onboard(gw, st, "tyrell", TODAY)
    assert "create-project" not in [c.action for c in dry.changes]
    assert [c.detail for c in dry.changes if c.action == "update-registry"] == [f"project: {moved}"]
    assert plan_verify(gw, st, "tyrell", TODAY).project == moved
    _apply(gw, plan_handoff(gw, st, "tyrell", "erin", TODAY))
    assert f"project: {moved}" in file.read_text()
    assert plan_promote(gw, st, "tyrell", TODAY).changes == []
    projects = gw.list("/groups/account-management%2Fpre-sales/projects", "list")
    assert projects == []


@pytest.mark.parametrize("ahead_days", [0, 1, 6])
def test_second_run_after_a_triage_issue_opens_writes_nothing(
    workdir: Path, settings: Settings, ahead_days: int
) -> None:
    """SPEC 5: "A second run on the same day with unchanged inputs writes nothing", also
    when GitLab's clock (which stamps ``created_at``, doc/api/issues.md) is ahead of the
    bot's day (a run near midnight, ``--today``): the triage issue's due date and the
    card's "in triage since" are dated by the bot's day on both runs."""
    import datetime as dt

    life = Life(workdir, settings, "free", "none")
    gitlab_now = dt.datetime.combine(TODAY + dt.timedelta(days=ahead_days), dt.time(0, 5))
    life.sandbox.store.clock = lambda: gitlab_now.replace(tzinfo=dt.UTC)
    _apply(life.gw, plan_setup(life.gw, life.settings))
    life.triage()
    tracking = life.bot_issue(ACCOUNTS, "tracking", "umbrella")
    life.gw.update_issue(ACCOUNTS, tracking["iid"], add_labels="sentiment::red")
    opened = life.writes_of(life.triage)
    triage = life.bot_issue(TRIAGE, "triage", "umbrella", state="opened")
    assert opened > 0 and triage["created_at"][:10] == gitlab_now.date().isoformat()
    assert life.writes_of(life.triage) == 0


def test_opened_day_is_never_after_the_bots_day() -> None:
    """The day a bot issue was opened, on the bot's calendar (context.opened_day)."""
    import datetime as dt

    from gl_csm.services.triage.context import opened_day

    day = dt.date(2026, 11, 23)
    assert opened_day({"created_at": "2026-11-24T00:05:00Z"}, day) == day
    assert opened_day({"created_at": "2026-11-20T23:59:00Z"}, day) == dt.date(2026, 11, 20)
    assert opened_day({}, day) == day and opened_day(None, day) == day
