"""The floor `gl-csm triage` is measured against: a minimal client in plain
python-gitlab doing the same labels and issues, and nothing else.

Same data (the registry, assessed by the same pure domain functions), same issues in
the same projects (a tracking issue per account with the labels of the bot's scopes; a
triage issue when the account needs triage, with ``triage::open`` and the risk labels;
a confidential escalation issue when red and requested), each found again by its
hidden marker. No reminders, no account card, no notes, no mentions, no assignees, no
milestones, no pacing: what is left is the cost any client pays: reading the three
listings and creating each object once.

It is a benchmark baseline, not a product: run it with ``bench_triage.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import gitlab
from requests.adapters import BaseAdapter, HTTPAdapter

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.assessment import assess
from gl_csm.domain.health import LabelSignals
from gl_csm.gitlab.gateway import CallCounter, CountingAdapter
from gl_csm.registry import load_registry
from gl_csm.services.tracking import bot_labels

TRACKING, TRIAGE, ESCALATION = "minimal-tracking", "minimal-triage", "minimal-escalation"


@dataclass(frozen=True)
class Result:
    reads: int
    writes: int
    created: int


def run(
    url: str, token: str, settings: Settings, today: date, transport: BaseAdapter | None = None
) -> Result:
    """One run: list, compare, create or relabel what differs (``transport``: an
    in-process one, such as the sandbox's adapter, instead of HTTP)."""
    counter = CallCounter()
    gl = gitlab.Gitlab(url, private_token=token, per_page=100, keep_base_url=True)
    gl.session.mount(url, CountingAdapter(transport or HTTPAdapter(), counter))
    projects = settings.projects
    assert projects is not None
    accounts_project = gl.projects.get(projects.accounts, lazy=True)
    triage_project = gl.projects.get(projects.triage, lazy=True)
    escalations_project = gl.projects.get(projects.escalations, lazy=True)

    def index(project, kind: str, state: str):  # type: ignore[no-untyped-def]
        issues = project.issues.list(get_all=True, state=state, per_page=100)
        return markers.index_by_marker([i.asdict() for i in issues], kind)

    tracking = index(accounts_project, TRACKING, "all")
    triage = index(triage_project, TRIAGE, "opened")
    escalations = index(escalations_project, ESCALATION, "opened")
    tax = settings.taxonomy
    created = 0

    def create(project, kind: str, slug: str, title: str, labels: list[str], **extra):  # type: ignore[no-untyped-def]
        nonlocal created
        description = f"{markers.marker(kind, slug)}\n{title}\n"
        project.issues.create(
            {"title": title, "description": description, "labels": ",".join(labels), **extra}
        )
        created += 1

    for account in load_registry(settings.accounts_dir).accounts:
        slug = account.slug
        issue = tracking.get(slug)
        labels = list((issue or {}).get("labels") or [])
        signals = LabelSignals(
            sentiment=tax.value_of(labels, "sentiment"),
            triage_needed=tax.name("triage::needed") in labels,
        )
        a = assess(account, settings.rules, today, signals)
        wanted = bot_labels(a, tax)
        if issue is None:
            create(accounts_project, TRACKING, slug, account.name, wanted)
        elif not set(wanted) <= set(labels):
            accounts_project.issues.update(issue["iid"], {"add_labels": ",".join(wanted)})
        if a.needs_triage and slug not in triage:
            risk = [
                tax.name(f"{scope}::{values[0]}")
                for scope, values in (
                    ("risk-type", account.risk.types),
                    ("risk-reason", account.risk.reasons),
                    ("risk-impact", account.risk.impacts),
                )
                if values
            ]
            title = f"Account triage: {account.name}"
            create(triage_project, TRIAGE, slug, title, [tax.name("triage::open"), *risk])
        red = a.health is not None and a.health.color == "red"
        if red and account.risk.escalation_requested and slug not in escalations:
            labels = [tax.name("escalation::open"), tax.name("escalation-severity::high")]
            title = f"Account escalation: {account.name}"
            create(escalations_project, ESCALATION, slug, title, labels, confidential=True)
    gl.session.close()
    stats = counter.snapshot()
    return Result(stats.reads, stats.writes, created)
