"""The reaction trigger table (services/triggers.py, SPEC 5 React): for every row,
`react` acts on its label, a repeated delivery writes nothing, and with the delivery
dropped the next scheduled `triage` reaches the same effect (ARCHITECTURE: "the
scheduled run re-reads every trigger label"). A row added in a test is picked up by
react, the catch-up and the table docs with no other change."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gl_csm import markers
from gl_csm.config import load_settings
from gl_csm.domain.triggers import Trigger
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services import triggers
from gl_csm.services.react import plan_react, react
from gl_csm.services.triage.run import plan_triage
from tests.conftest import CONFIG, ROOT, TODAY
from tests.services.onboarding_support import onboard_prospect
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, ESCALATIONS, RED, TRIAGE, World

D = date.fromisoformat
PROJECT = {"tracking": ACCOUNTS, "triage": TRIAGE, "escalation": ESCALATIONS}


@dataclass
class Case:
    """A world just before a person adds a row's label: how to add it, run the
    scheduled triage, and read the effect the row is for."""

    gateway: Gateway
    settings: Any
    today: date
    kind: str
    slug: str
    label: str
    effect: Callable[[], Any]
    scheduled: Callable[[], Any]

    def issue(self) -> dict:
        found = self.gateway.find_issue_by_marker(
            PROJECT[self.kind], markers.token(self.kind, self.slug)
        )
        assert found is not None, f"no {self.kind} issue of {self.slug}"
        return found

    def add_label(self) -> dict:
        """A person adds the label; the Issue Hook GitLab then sends."""
        issue = self.issue()
        self.gateway.update_issue(PROJECT[self.kind], issue["iid"], add_labels=self.label)
        fresh = self.gateway.issue(PROJECT[self.kind], issue["iid"])
        assert fresh is not None
        return issue_hook(PROJECT[self.kind], fresh, added=[self.label])


def _world_case(w: World, kind: str, slug: str, label: str, effect: Callable[[World], Any]) -> Case:
    return Case(
        w.gateway,
        w.settings,
        w.today,
        kind,
        slug,
        label,
        lambda: effect(w),
        lambda: w.run(w.today),
    )


def _open(w: World, project: str, kind: str) -> set[str]:
    return set(markers.index_by_marker(w.issues(project, state="opened"), kind))


def _tracking_labels(w: World, slug: str) -> list[str]:
    return markers.index_by_marker(w.issues(ACCOUNTS), "tracking")[slug]["labels"]


def _sentiment(tmp: Path) -> Case:
    w = World(tmp)
    w.add("acme", "Acme")
    w.run()
    return _world_case(
        w,
        "tracking",
        "acme",
        "sentiment::red",
        lambda w: ("health::red" in _tracking_labels(w, "acme"), _open(w, TRIAGE, "triage")),
    )


def _triage_needed(tmp: Path) -> Case:
    w = World(tmp)
    w.add("acme", "Acme")
    w.run()
    return _world_case(
        w, "tracking", "acme", "triage::needed", lambda w: _open(w, TRIAGE, "triage")
    )


def _will_churn(tmp: Path) -> Case:
    w = World(tmp)
    w.add("initech", "Initech")
    w.run()
    return _world_case(
        w,
        "tracking",
        "initech",
        "lifecycle::will-churn",
        lambda w: (
            set(markers.index_by_marker(w.issues(ACCOUNTS), "will-churn")),
            "lifecycle::will-churn" in _tracking_labels(w, "initech"),
        ),
    )


def _escalation_requested(tmp: Path) -> Case:
    w = World(tmp)
    w.add("initech", "Initech", **RED)
    w.run()
    return _world_case(
        w,
        "tracking",
        "initech",
        "escalation::requested",
        lambda w: _open(w, ESCALATIONS, "escalation"),
    )


def _closing_notes(w: World, project: str, kind: str, slug: str) -> list[str]:
    issue = markers.index_by_marker(w.issues(project), kind)[slug]
    return [n["body"] for n in w.notes(project, issue["iid"]) if f"{slug}:closed" in n["body"]]


def _triage_resolved(tmp: Path) -> Case:
    w = World(tmp)
    w.add("initech", "Initech", **RED)
    w.run()
    w.add("initech", "Initech")  # back to green
    w.run(D("2026-11-30"))
    return _world_case(
        w,
        "triage",
        "initech",
        "triage::resolved",
        lambda w: (
            _open(w, TRIAGE, "triage"),
            len(_closing_notes(w, TRIAGE, "triage", "initech")),
        ),
    )


def _escalation_resolved(tmp: Path) -> Case:
    w = World(tmp)
    w.add("initech", "Initech", **RED)
    w.run()
    tracking = markers.index_by_marker(w.issues(ACCOUNTS), "tracking")["initech"]
    w.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="escalation::requested")
    w.run(D("2026-11-24"))
    assert _open(w, ESCALATIONS, "escalation") == {"initech"}
    # The request withdrawn before the resolution: one still standing on a red account
    # is refused (services/triage/escalation.py), the next run would open another.
    w.person().update_issue(ACCOUNTS, tracking["iid"], remove_labels="escalation::requested")
    w.run(D("2026-11-24"))
    return _world_case(
        w,
        "escalation",
        "initech",
        "escalation::resolved",
        lambda w: (
            _open(w, ESCALATIONS, "escalation"),
            len(_closing_notes(w, ESCALATIONS, "escalation", "initech")),
        ),
    )


def _promote(tmp: Path) -> Case:
    """initrode onboarded in pre-sales, then paid: its label promotes it."""
    shutil.copytree(ROOT / "accounts", tmp / "accounts")
    (tmp / "gl-csm.yml").write_text(CONFIG)
    settings = load_settings(tmp / "gl-csm.yml", environ={})
    sandbox = Sandbox()
    seed_sandbox(sandbox, settings)
    gateway = Gateway.for_transport(SandboxAdapter(sandbox))
    gateway._create_wait_max = 0.0
    registry = onboard_prospect(gateway, settings, tmp)
    paid = (TODAY - timedelta(days=3)).isoformat()
    registry.write_text(registry.read_text() + f"customer_since: {paid}\n")

    def effect() -> Any:
        tracking = gateway.find_issue_by_marker(ACCOUNTS, markers.token("tracking", "initrode"))
        assert tracking is not None
        return (
            gateway.project("account-management/customers/initrode") is not None,
            "action::promote" in tracking["labels"],
        )

    return Case(
        gateway,
        settings,
        TODAY,
        "tracking",
        "initrode",
        "action::promote",
        effect,
        lambda: plan_triage(gateway, settings, TODAY).plan.apply(gateway),
    )


#: One world per row of the table; a row without one fails the test below.
CASES: dict[str, Callable[[Path], Case]] = {
    "action::promote": _promote,
    "sentiment::*": _sentiment,
    "triage::needed": _triage_needed,
    "lifecycle::will-churn": _will_churn,
    "escalation::requested": _escalation_requested,
    "triage::resolved": _triage_resolved,
    "escalation::resolved": _escalation_resolved,
}


def test_every_row_has_a_case() -> None:
    assert [row.label for row in triggers.TABLE] == list(CASES)


def _check_row(row: Trigger, make: Callable[[Path], Case], tmp_path: Path) -> None:
    # (a) react acts on the label.
    case = make(tmp_path / "delivered")
    before = case.effect()
    payload = case.add_label()
    reaction, outcome = react(case.gateway, case.settings, case.today, payload)
    assert reaction.status == "acted" and outcome.exit_code == 0, (reaction.line, outcome)
    acted = case.effect()
    assert acted != before, f"{row.label}: react changed nothing the row is for"
    # (b) a repeated delivery writes nothing.
    writes = case.gateway.stats.writes
    again, outcome = react(case.gateway, case.settings, case.today, payload)
    assert case.gateway.stats.writes == writes and outcome.changes == [], again.line
    # (c) the delivery dropped: the next scheduled triage reaches the same effect.
    dropped = make(tmp_path / "dropped")
    assert dropped.effect() == before
    dropped.add_label()
    dropped.scheduled()
    assert dropped.effect() == acted, f"{row.label}: the scheduled triage did not catch up"


@pytest.mark.parametrize("row", triggers.TABLE, ids=lambda row: row.label)
def test_react_acts_a_repeat_writes_nothing_and_the_scheduled_triage_catches_up(
    row: Trigger, tmp_path: Path
) -> None:
    _check_row(row, CASES[row.label], tmp_path)


# ---------------------------------------------------------------- a row added


HEALTH_CHECK = "health-check::requested"


def _health_check_note(
    gateway: Gateway, settings: Any, slug: str, issue: Mapping[str, Any], label: str
) -> Plan:
    """A team's own action: one note asking for a health check, then the label goes."""
    plan = Plan()
    token = markers.token("health-check", slug)
    if any(token in (n.get("body") or "") for n in gateway.notes(ACCOUNTS, issue["iid"])):
        return plan
    body = f"{markers.marker('health-check', slug)}\nHealth check requested for {slug}.\n"
    target = f"{ACCOUNTS}#{issue['iid']} (tracking issue of {slug})"
    plan.add(
        "create-note",
        target,
        "ask for a health check",
        lambda gw, _r: gw.create_note(ACCOUNTS, issue["iid"], body, token),
        account=slug,
    )
    plan.add(
        "update-issue",
        target,
        f"remove {label}",
        lambda gw, _r: gw.update_issue(ACCOUNTS, issue["iid"], remove_labels=label),
        account=slug,
    )
    return plan


def _act(f: triggers.Fired) -> Any:
    from gl_csm.services.reaction import Reaction

    plan = _health_check_note(f.gateway, f.settings, f.slug, f.issue, f.label)
    return Reaction(
        plan=plan, status="acted", account=f.slug, trigger=f.label, event=f.event,
        reason=f"{f.label} added on {f.where}: ask for a health check",
    )  # fmt: skip


NEW_ROW = Trigger(
    HEALTH_CHECK,
    "tracking",
    "ask for a health check on the tracking issue, then remove the label",
    _act,
    repeat="the label is gone once asked; the note is found by its marker",
    catch_up="asked by the scheduled triage while the label is on the tracking issue",
    catch_up_plan=lambda ctx, slug, issue, label: _health_check_note(
        ctx.gateway, ctx.settings, slug, issue, label
    ),
)


def test_a_row_added_to_the_table_is_picked_up_by_react_the_catch_up_and_the_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def make(tmp: Path) -> Case:
        w = World(tmp)
        w.add("acme", "Acme")
        w.run()

        def effect(w: World) -> Any:
            tracking = markers.index_by_marker(w.issues(ACCOUNTS), "tracking")["acme"]
            notes = w.notes(ACCOUNTS, tracking["iid"])
            asked = [n for n in notes if markers.token("health-check", "acme") in n["body"]]
            return len(asked), HEALTH_CHECK in tracking["labels"]

        return _world_case(w, "tracking", "acme", HEALTH_CHECK, effect)

    # Before the row: a label outside the table is an `ignored:` line.
    case = make(tmp_path / "before")
    payload = case.add_label()
    before = plan_react(case.gateway, case.settings, case.today, payload)
    assert before.status == "ignored" and "none of them a gl-csm label" in before.reason
    case.scheduled()
    assert case.effect() == (0, True)  # nor does the scheduled triage act on it

    monkeypatch.setattr(triggers, "TABLE", (*triggers.TABLE, NEW_ROW))
    _check_row(NEW_ROW, make, tmp_path)
    assert case.effect() == (0, True)
    case.scheduled()
    assert case.effect() == (1, False)
    docs = triggers.markdown(case.settings)
    row = [line for line in docs.splitlines() if line.startswith(f"| `{HEALTH_CHECK}` |")]
    assert len(row) == 1 and "ask for a health check" in row[0], docs
    assert "asked by the scheduled triage" in row[0] and "anyone who can label" in row[0]


def test_the_readme_shows_the_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- gl-csm triggers begin -->\n(.*?)<!-- gl-csm triggers end -->", readme, re.S
    )
    assert block is not None, "README: the trigger table's markers are missing"
    assert block.group(1) == _docs_table(), "README's trigger table differs from the table"


def _docs_table() -> str:
    from gl_csm.domain import triggers as table_rules
    from gl_csm.domain.taxonomy import Taxonomy

    return table_rules.markdown(triggers.TABLE, Taxonomy())


def test_a_new_teams_readme_names_every_trigger() -> None:
    """`gl-csm init` writes the team's README from this template: it lists the labels
    that make the bot act at once."""
    text = (ROOT / "gl_csm" / "scaffold" / "README.md.j2").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    missing = [row.label for row in triggers.TABLE if f"`{row.label}`" not in flat]
    assert not missing, missing
