"""What the modules of `gl-csm triage` share (SPEC 5 Triage): the marker kinds of the
bot's issues and notes, the run's context (the issues listed once, lazy user and
milestone ids), and the assessment figures the issues quote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.health import Measure
from gl_csm.domain.history import HistoryRow
from gl_csm.domain.measure_text import measure_name, override_text
from gl_csm.domain.measures.registry import steady_text
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.tracking import UserIds

TRIAGE, ESCALATION, REMINDER = "triage", "escalation", "reminder"
TRIAGE_NOTE, ESCALATION_NOTE, TRACKING_NOTE = "triage-note", "escalation-note", "tracking-note"
TRIAGE_SCOPES = ("triage", "risk-type", "risk-reason", "risk-impact")
ESCALATION_SCOPES = ("escalation",)


def day_of(iso: str | None) -> date | None:
    return date.fromisoformat(iso[:10]) if iso else None


def opened_day(issue: Mapping[str, Any] | None, today: date) -> date:
    """The day a bot issue was opened, on the bot's calendar.

    The run that opens an issue dates it ``today`` (its due date, the card's "since"),
    before GitLab has stamped ``created_at``. GitLab's clock can be a day ahead of the
    bot's ``today`` (a run near midnight, ``--today`` for a past day, a skewed clock):
    taking that stamp as is would move the due date on the next run of the same day and
    break SPEC 5 ("a second run on the same day with unchanged inputs writes nothing").
    An issue cannot have been opened after the bot's today, so the stamp is capped.
    """
    stamped = day_of((issue or {}).get("created_at"))
    return today if stamped is None else min(stamped, today)


class MilestoneIds:
    """Milestone ids of one project by title, listed once and created when missing,
    lazily inside the changes that need them (a no-op run reads none)."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._ids: dict[str, int] | None = None
        self._planned: set[str] = set()

    def _known(self, gateway: Gateway) -> dict[str, int]:
        if self._ids is None:
            self._ids = {m["title"]: int(m["id"]) for m in gateway.milestones(self.project)}
        return self._ids

    def plan_missing(
        self, plan: Plan, gateway: Gateway, title: str, start: date, due: date, account: str
    ) -> None:
        """A change creating the milestone when the project lacks it, so the printed plan
        names every write ("31 change(s)" next to "writes 32"). Read only when
        an issue needs the milestone, never on a run with nothing to write."""
        if title in self._known(gateway) or title in self._planned:
            return
        self._planned.add(title)
        plan.add(
            "create-milestone",
            self.project,
            f"{title!r} {start.isoformat()} .. {due.isoformat()} (fiscal quarter of the renewal)",
            lambda gw, _r: self.id_for(gw, title, start, due),
            account=account,
        )

    def id_for(self, gateway: Gateway, title: str, start: date, due: date) -> int:
        self._known(gateway)
        assert self._ids is not None
        if title not in self._ids:
            # Re-read before creating: another run (a concurrent reaction) may have made
            # it since this run listed them; GitLab refuses a second one.
            fresh = {m["title"]: int(m["id"]) for m in gateway.milestones(self.project)}
            self._ids.update(fresh)
        if title not in self._ids:
            made = gateway.create_milestone(
                self.project, title, start_date=start.isoformat(), due_date=due.isoformat()
            )
            self._ids[title] = int(made["id"])
        return self._ids[title]


@dataclass
class TriageContext:
    """What one triage run read once (the issues by marker) and resolves lazily (user
    and milestone ids), shared by the planners of each account."""

    gateway: Gateway
    settings: Settings
    today: date
    # Mappings: a full run's listings indexed by marker, or for one account what its
    # hints found, a miss looked up in the full listing (services/lookup.MarkerIndex).
    tracking: Mapping[str, dict]
    reminders: Mapping[str, dict]
    triage: Mapping[str, dict]
    escalations: Mapping[str, dict]
    users: UserIds
    milestones: MilestoneIds
    #: slug -> role ("triage", "escalation") -> the OpenIssue planned this run, whose
    #: note facts the account's card records (bot_issues.note_records).
    open_issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: slug -> role -> the keys of the bot notes planned on the issue of that role this
    #: run opens (the card records them with it: bot_issues.note_records).
    notes_on_new: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: The will-churn checklists by account (services/moves/will_churn.py).
    will_churn: dict[str, dict] = field(default_factory=dict)
    #: slug -> this run's evidence from the collaboration projects
    #: (services/triage/evidence.AccountEvidence; SPEC 4.1).
    evidence: dict[str, Any] = field(default_factory=dict)
    _reminders_by_slug: dict[str, list[dict]] | None = field(default=None, repr=False)
    #: The accounts project as GitLab returned it: links are made from its web_url,
    #: never from the URL the bot uses (services/lookup.web_url_of).
    accounts_project: Mapping[str, Any] | None = None
    #: A full run's knowledge of the accounts project's closed issues
    #: (services/triage/past_issues.PastIssues); None for one account.
    past: Any = None

    def reminders_of(self, slug: str) -> list[dict]:
        """The reminder issues keyed ``SLUG:...``, by key: grouped once per run (a scan
        of every reminder per account cost a 1,000-account rerun a second)."""
        if self._reminders_by_slug is None:
            grouped: dict[str, list[dict]] = {}
            for key, issue in sorted(self.reminders.items()):
                grouped.setdefault(key.split(":", 1)[0], []).append(issue)
            self._reminders_by_slug = grouped
        return self._reminders_by_slug.get(slug, [])

    #: The portfolio history by account, oldest row first (services/triage/history.py).
    history: dict[str, list[HistoryRow]] = field(default_factory=dict)

    @property
    def projects(self):  # type: ignore[no-untyped-def]
        return self.settings.projects


def score_of(a: Assessment) -> float | None:
    h = a.health
    return None if h is None or h.score is None else round(h.score, 1)


def account_file(account: Account) -> str:
    """The account's registry file as the CS-ops repository names it (``initech.yml``):
    where a person changes its data. Never the checkout's path, which differs per run."""
    return Path(account.source).name if account.source else f"{account.slug}.yml"


def _measure_line(a: Assessment, m: Measure) -> str:
    """One yellow or red measure in words, as its definition quotes it: day counts
    become the date they count from, so the bot's part of an issue quoting them does
    not change every day (generated.py)."""
    detail = steady_text(m, a.account)
    return f"{measure_name(m.name)} is {m.color}" + (f": {detail}" if detail else "")


def override_lines(a: Assessment) -> list[str]:
    """The overrides applied, each saying what it did: "Override: red CSM sentiment
    makes the account red"."""
    h = a.health
    if h is None:
        return []
    return [
        f"Override: {override_text(o)} makes the account {o.rsplit(' -> ', 1)[-1]}"
        for o in h.overrides
    ]


def drivers(a: Assessment, colors: tuple[str, ...] = ("yellow", "red")) -> list[str]:
    """What made the health: the overrides and every measure of ``colors``."""
    h = a.health
    if h is None:
        return []
    return override_lines(a) + [_measure_line(a, m) for m in h.measures if m.color in colors]
