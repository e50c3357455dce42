"""Every text gl-csm renders for people, produced the way the bot produces it.

* ``projects/<template>/<segment>-<phase>/``: each file and preloaded issue of the
  collaboration project (customer-visible), for one sample account of every segment in
  every phase of its template (``desired_state``, what onboard / promote commit), as a
  new customer; ``<segment>-existing/``: the existing-customer variant (post-sales).
* ``bot/``: what the internal projects hold after real runs of the services against
  the in-process sandbox with a fixed date: tracking issues (the card), triage,
  escalation, reminder, handoff and disengage issues with their notes, and the
  printed plans and ``report.md``.

Everything is deterministic: the sandbox clock follows the scenario's date, the sample
registry is the repository's ``accounts/``, and the sandbox URL is replaced by
``https://gitlab.example.com``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from gl_csm import markers
from gl_csm.config import Settings, load_settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, dry_run_outcome
from gl_csm.registry import load_registry
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.promote import plan_promote
from gl_csm.services.moves.disengage import plan_disengage
from gl_csm.services.moves.handoff import plan_handoff
from gl_csm.services.moves.will_churn import STEPS, plan_will_churn
from gl_csm.services.setup import plan_setup
from gl_csm.services.triage.report import build_report, load_results, plan_report_issue
from gl_csm.services.triage.run import plan_triage
from gl_csm.templates import manifest_for
from tests.conftest import CONFIG, ROOT

GOLDEN_DIR = Path(__file__).resolve().parent / "files"
TODAY = date(2026, 11, 23)
BASE = "https://gitlab.example.com"
#: One sample account of every segment (SPEC 2), from the repository's `accounts/`.
SAMPLES = {
    "strategic": "acme-corp",
    "growth": "hooli",
    "scale": "wayne-enterprises",
    "commercial": "soylent",
}
INTERNAL = {
    "accounts": "customer-success/accounts",
    "triage": "customer-success/account-triage",
    "escalations": "customer-success/escalations",
}


class Scenario:
    """The sample registry, a sandbox whose clock is the scenario's date, a gateway."""

    def __init__(self, root: Path, today: date = TODAY) -> None:
        self.root = root
        self.today = today
        shutil.copytree(ROOT / "accounts", root / "accounts")
        (root / "gl-csm.yml").write_text(CONFIG)
        self.settings: Settings = load_settings(root / "gl-csm.yml", environ={})
        # GitLab Free with its full-text search (the defaults): what most teams run.
        self.sandbox = Sandbox(clock=lambda: dt.datetime.combine(self.today, dt.time(9), dt.UTC))
        seed_sandbox(
            self.sandbox,
            self.settings,
            extra_users=["alice", "bob", "carol", "dave", "erin", "frank"],
        )
        self.gateway = Gateway.for_transport(SandboxAdapter(self.sandbox))
        self.gateway._create_wait_max = 0.0

    def clean(self, text: str) -> str:
        text = text.replace(self.gateway.url.rstrip("/"), BASE)
        return without_digests(text.replace(f"{self.root}/", ""))

    def apply(self, build: Callable[[], Plan]) -> str:
        """Plan, print it as `--dry-run` would, apply it; the printed plan is returned."""
        plan = build()
        printed = dry_run_outcome(plan).render("text", dry_run=True) + "\n"
        outcome = plan.apply(self.gateway)
        assert not outcome.failures, [f.to_text() for f in outcome.failures]
        return self.clean(printed)


_STAMP = re.compile(r"\n<!-- gl-csm inputs [0-9a-f]{16} text [0-9a-f]{16} -->")
_DATA = re.compile(r"<!-- gl-csm-data (\{.*?\}) -->")
#: The digests in a card's hidden data (services/tracking.py): no reader's text.
_DIGEST_KEYS = ("card", "text")


def _data_without_digests(found: re.Match[str]) -> str:
    data = {k: v for k, v in json.loads(found.group(1)).items() if k not in _DIGEST_KEYS}
    return f"<!-- gl-csm-data {json.dumps(data, sort_keys=True, separators=(',', ':'))} -->"


def without_digests(text: str) -> str:
    """A text without the stamps and digests people never read (as tests/stories leaves
    out hidden comments): a golden file's diff then shows only a change of text, never a
    digest that moved because an input no text shows did."""
    return _DATA.sub(_data_without_digests, _STAMP.sub("", text))


def project_texts(settings: Settings, today: date) -> dict[str, str]:
    """Every customer-visible text of a collaboration project, per segment and phase."""
    out: dict[str, str] = {}
    registry = load_registry(settings.accounts_dir).by_slug()
    manifests = collab.manifests_for(settings)
    for segment, slug in SAMPLES.items():
        account = registry[slug]
        manifest = manifest_for(manifests, segment)
        # Post-sales in both playbooks (handbook 003: new or existing customer).
        variants = [(p, "new") for p in manifest.phases] + [("post-sales", "existing")]
        for phase, variant in variants:
            group = "pre-sales" if phase == "pre-sales" else "customers"
            path = f"account-management/{group}/{slug}"
            # A new customer's project in post-sales reads as it does during onboarding
            # (the sample accounts are past it; past onboarding the project says where
            # the engagement stands, as the existing variant shows).
            sample = (
                dataclasses.replace(account, customer_since=today, onboarding_completed=None)
                if phase == "post-sales" and variant == "new"
                else account
            )
            desired = collab.desired_state(
                manifest,
                sample,
                settings,
                today,
                phase=phase,
                path=path,
                web_url=f"{BASE}/{path}",
                variant=variant,
            )
            where = f"projects/{manifest.name}/{segment}-{phase if variant == 'new' else variant}"
            for file_path, text in desired.files.items():
                out[f"{where}/files/{file_path}"] = text
            for w in desired.issues:
                head = [f"title: {w.title}"]
                if w.labels:
                    head.append(f"labels: {', '.join(w.labels)}")
                if w.assignee:
                    head.append(f"assignee: {w.assignee}")
                if w.due_date:
                    head.append(f"due: {w.due_date.isoformat()}")
                if w.milestone:
                    head.append(f"milestone: {manifest.milestone(w.milestone).title}")
                out[f"{where}/issues/{w.key}.md"] = "\n".join(head) + "\n---\n" + w.description
            milestones = [
                f"## {m.title} ({m.start_date.isoformat()} .. {m.due_date.isoformat()})\n\n"
                + m.description
                for m in desired.milestones
            ]
            out[f"{where}/milestones.md"] = "\n".join(milestones)
            out[f"{where}/project-description.txt"] = desired.description + "\n"
    return out


def command_texts(settings: Settings, today: date) -> dict[str, str]:
    """What the commands that need no GitLab print for a CSM: `assess` (text, by CSM),
    `templates check` and `templates preview` of one sample account."""
    from gl_csm.services.assess import book_balance, render_book_balance, render_text, run_assess
    from gl_csm.services.templates_review import check_templates, preview

    run = run_assess(settings.accounts_dir, settings.rules, today)
    root = f"{settings.accounts_dir.parent}/"
    return {
        "commands/assess.txt": render_text(run) + "\n",
        "commands/assess-by-csm.txt": render_book_balance(book_balance(run, settings.rules)) + "\n",
        "commands/templates-check.txt": check_templates(settings, today).to_text().replace(root, "")
        + "\n",
        "commands/templates-preview-tyrell.md": preview(settings, "tyrell", today).replace(
            root, ""
        ),
    }


def _issue_text(scenario: Scenario, project: str, issue: dict) -> str:
    """An issue as its reader sees it: title, labels, people, dates, body, notes."""
    head = [f"title: {issue['title']}"]
    if issue.get("confidential"):
        head.append("confidential: true")
    head.append(f"state: {issue['state']}")
    if issue.get("labels"):
        head.append(f"labels: {', '.join(sorted(issue['labels']))}")
    assignees = [a["username"] for a in issue.get("assignees") or []]
    if assignees:
        head.append(f"assignees: {', '.join(assignees)}")
    if issue.get("due_date"):
        head.append(f"due: {issue['due_date']}")
    if issue.get("milestone"):
        head.append(f"milestone: {issue['milestone']['title']}")
    parts = ["\n".join(head), issue.get("description") or ""]
    # Oldest first, as a reader scrolls the issue (the API lists newest first).
    for note in sorted(scenario.gateway.notes(project, issue["iid"]), key=lambda n: n["id"]):
        if note.get("system"):
            continue
        parts.append(f"note by {note['author']['username']}:\n\n{note['body']}")
    return scenario.clean("\n\n--------\n\n".join(p.rstrip("\n") for p in parts) + "\n")


def _snapshot(scenario: Scenario, stage: str) -> dict[str, str]:
    """Each bot issue of the internal projects, named by its marker."""
    out: dict[str, str] = {}
    for short, project in INTERNAL.items():
        for issue in scenario.gateway.issues(project, state="all"):
            found = markers.markers_in(issue.get("description"))
            if not found:
                continue
            kind, key = found[0]
            name = f"{kind}--{key.replace('/', '--').replace(':', '--')}"
            out[f"bot/{stage}/{short}/{name}.md"] = _issue_text(scenario, project, issue)
    return out


def bot_texts(workdir: Path) -> dict[str, str]:
    """The internal texts, through the real services against the sandbox."""
    s = Scenario(workdir)
    out: dict[str, str] = {}
    s.apply(lambda: plan_setup(s.gateway, s.settings))
    out["bot/plans/onboard-tyrell.txt"] = s.apply(
        lambda: plan_onboard(s.gateway, s.settings, "tyrell", s.today)
    )
    run = plan_triage(s.gateway, s.settings, s.today)
    out["bot/plans/triage-day1.txt"] = s.clean(
        dry_run_outcome(run.plan).render("text", dry_run=True) + "\n"
    )
    outcome = run.plan.apply(s.gateway)
    assert not outcome.failures, [f.to_text() for f in outcome.failures]
    results = workdir / "triage.json"
    results.write_text(json.dumps(run.extra()))
    report = build_report(s.gateway, s.settings, load_results([results]), s.today)
    out["bot/report.md"] = s.clean(report)
    # The summary issue holds it: the next report compares with its date.
    plan_report_issue(s.gateway, s.settings, report, s.today).apply(s.gateway)
    out["bot/plans/handoff-globex-erin.txt"] = s.apply(
        lambda: plan_handoff(s.gateway, s.settings, "globex", "erin", s.today)
    )
    out["bot/plans/handoff-tyrell-frank.txt"] = s.apply(
        lambda: plan_handoff(s.gateway, s.settings, "tyrell", "frank", s.today)
    )
    out["bot/plans/disengage-soylent.txt"] = s.apply(
        lambda: plan_disengage(
            s.gateway, s.settings, "soylent", s.today, reason="Moving to a competitor's suite"
        )
    )
    out["bot/plans/will-churn-umbrella.txt"] = s.apply(
        lambda: plan_will_churn(s.gateway, s.settings, "umbrella", s.today)
    )
    out.update(_snapshot(s, "day1"))
    # Two weeks on: at-risk and escalation update reminders, stale health; a person adds
    # triage::resolved on the still-red initech (refused, with why).
    s.today = date(2026, 12, 9)
    checklist = markers.index_by_marker(s.gateway.issues(INTERNAL["accounts"]), "will-churn")
    body = checklist["umbrella"]["description"]
    for step in STEPS[:2]:  # a person ticks the first two steps
        body = body.replace(f"- [ ] {step}", f"- [x] {step}")
    s.gateway.update_issue(INTERNAL["accounts"], checklist["umbrella"]["iid"], description=body)
    triage = markers.index_by_marker(s.gateway.issues(INTERNAL["triage"]), "triage")
    s.gateway.update_issue(
        INTERNAL["triage"], triage["initech"]["iid"], add_labels="triage::resolved"
    )
    run = plan_triage(s.gateway, s.settings, s.today)
    out["bot/plans/triage-day2.txt"] = s.clean(
        dry_run_outcome(run.plan).render("text", dry_run=True) + "\n"
    )
    outcome = run.plan.apply(s.gateway)
    assert not outcome.failures, [f.to_text() for f in outcome.failures]
    results.write_text(json.dumps(run.extra()))
    out["bot/report-day2.md"] = s.clean(
        build_report(s.gateway, s.settings, load_results([results]), s.today)
    )
    # Only what changed since the day before (a rerun that changes nothing adds no file).
    seen = _snapshot_changes(out, _snapshot(s, "day2"), "day1", "day2")

    # Initech is won back (green, no risk): exit proposal and closure questions; wayne's
    # onboarding window ends (note on its tracking issue).
    # (Initech's registry file now holds the healthy figures of acme-corp's.)
    healthy = (s.root / "accounts" / "acme-corp.yml").read_text()
    (s.root / "accounts" / "initech.yml").write_text(
        healthy.replace("name: Acme Corp", "name: Initech").replace("/acme-corp", "/initech")
    )
    s.today = date(2026, 12, 20)
    _triage_day(s, out, "triage-day3")
    seen = _snapshot_changes(out, _snapshot(s, "day3"), "day2", "day3", seen)

    # A person resolves both: the closing notes.
    for short, kind, label in (
        ("triage", "triage", "triage::resolved"),
        ("escalations", "escalation", "escalation::resolved"),
    ):
        found = markers.index_by_marker(s.gateway.issues(INTERNAL[short]), kind)
        s.gateway.update_issue(INTERNAL[short], found["initech"]["iid"], add_labels=label)
    s.today = date(2026, 12, 21)
    _triage_day(s, out, "triage-day4")
    _snapshot_changes(out, _snapshot(s, "day4"), "day3", "day4", seen)

    # Tyrell pays: promote moves its project to post-sales and rewrites the phase
    # passages of its files (what the customer reads after promote, from GitLab).
    tyrell = s.root / "accounts" / "tyrell.yml"
    tyrell.write_text(tyrell.read_text() + f"customer_since: {s.today.isoformat()}\n")
    out["bot/plans/promote-tyrell.txt"] = s.apply(
        lambda: plan_promote(s.gateway, s.settings, "tyrell", s.today)
    )
    project = s.gateway.project("account-management/customers/tyrell")
    assert project is not None
    for name in ("README.md", "PLEASE-READ-THESE-INSTRUCTIONS.md"):
        text = s.gateway.file_text(project["id"], name, "main") or ""
        out[f"bot/projects/tyrell-after-promote/{name}"] = s.clean(text)
    return out


def _triage_day(s: Scenario, out: dict[str, str], name: str) -> None:
    run = plan_triage(s.gateway, s.settings, s.today)
    out[f"bot/plans/{name}.txt"] = s.clean(
        dry_run_outcome(run.plan).render("text", dry_run=True) + "\n"
    )
    outcome = run.plan.apply(s.gateway)
    assert not outcome.failures, [f.to_text() for f in outcome.failures]


def _snapshot_changes(
    out: dict[str, str],
    now: dict[str, str],
    before: str,
    day: str,
    seen: dict[str, str] | None = None,
) -> dict[str, str]:
    """Add the issues of ``now`` that differ from their last version; returns the
    latest version of every issue (by its name without the day)."""
    latest = dict(seen or {})
    if seen is None:
        for name, text in out.items():
            if f"/{before}/" in name:
                latest[name.replace(f"/{before}/", "/")] = text
    for name, text in now.items():
        key = name.replace(f"/{day}/", "/")
        if latest.get(key) != text:
            out[name] = text
            latest[key] = text
    return latest


def playbook_texts() -> dict[str, str]:
    """The playbook part of a triage issue for every risk type (SPEC 6.1), and one
    suggested from red measures (no risk type recorded yet)."""
    from gl_csm.domain.taxonomy import RISK_TYPES
    from gl_csm.services.triage.triage_issue import playbook_part

    out = {
        f"bot/playbooks/{kind}.md": playbook_part("initech.yml", (kind,), ()) + "\n"
        for kind in RISK_TYPES
    }
    suggested = (("product-usage", ("license_utilization", "ci")),)
    out["bot/playbooks/suggested-from-red-measures.md"] = (
        playbook_part("initech.yml", (), suggested) + "\n"
    )
    return out


def refusal_texts(workdir: Path) -> dict[str, str]:
    """The notes refusing a resolution while the request that opened the issue still
    stands: `triage::resolved` on a yellow account whose CSM set
    ``sentiment.needs_triage``, `escalation::resolved` on a red one whose registry still
    requests the escalation."""
    from tests.services.triage_world import ESCALATIONS, RED, YELLOW_TRIAGE, World
    from tests.services.triage_world import TRIAGE as TRIAGE_PROJECT

    out = {}
    for name, project, kind, data in (
        ("triage-resolve-refused-asked", TRIAGE_PROJECT, "triage", YELLOW_TRIAGE),
        (
            "escalation-resolve-refused-requested",
            ESCALATIONS,
            "escalation",
            {**RED, "risk": {**RED["risk"], "escalation_requested": True}},
        ),
    ):
        (workdir / kind).mkdir()
        world = World(workdir / kind)
        world.add("initech", "Initech", **data)
        world.run(date(2026, 11, 23))
        issue = markers.index_by_marker(world.issues(project), kind)["initech"]
        world.person().update_issue(project, issue["iid"], add_labels=f"{kind}::resolved")
        world.run(date(2026, 11, 24))
        [note] = [
            n["body"] for n in world.notes(project, issue["iid"]) if "resolve-refused" in n["body"]
        ]
        out[f"bot/notes/{name}.md"] = note + "\n"
    return out


def all_texts(workdir: Path) -> dict[str, str]:
    scenario_root = workdir / "bot"
    scenario_root.mkdir()
    projects_root = workdir / "projects"
    projects_root.mkdir()
    shutil.copytree(ROOT / "accounts", projects_root / "accounts")
    (projects_root / "gl-csm.yml").write_text(CONFIG)
    settings = load_settings(projects_root / "gl-csm.yml", environ={})
    out = project_texts(settings, TODAY)
    out.update(command_texts(settings, TODAY))
    out.update(bot_texts(scenario_root))
    out.update(playbook_texts())
    refusal_root = workdir / "refusal"
    refusal_root.mkdir()
    out.update(refusal_texts(refusal_root))
    return dict(sorted(out.items()))
