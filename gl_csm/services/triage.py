"""`gl-csm triage` (SPEC 5 Triage, 5.0, 5.1, 5.2): one plan over every account.

For each account: assess it with the labels people set on its tracking issue (SPEC 4),
make the tracking issue match (labels, card), open / keep / propose to leave / close
its triage issue, open / remind / close its confidential escalation issue, mention the
people of SPEC 5.1, and post the reminders of SPEC 5.2, each once (found by marker).

Reads are bounded so a no-op rerun costs about ceil(N/100) x 3 + one notes listing per
open triage and escalation issue:

* every issue of ``projects.accounts`` in one listing (tracking issues and reminder
  issues, found by their markers; the labels people set are inputs);
* the open issues of ``projects.triage`` and of ``projects.escalations``, once each;
* the notes of each open triage / escalation issue (last note by a person, reminders
  already posted);
* user ids and milestone ids are looked up lazily inside the changes that need them.

"Stale health" needs no label events: the card's hidden data records when the bot
first saw the current sentiment. Everything runs as one :class:`Plan`; an account that
fails to plan or apply is named and never stops the others (exit 1).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.cadence import fiscal_quarter, milestone_name
from gl_csm.domain.health import LabelSignals, worse_color
from gl_csm.domain.notify import Notify, who_to_tell
from gl_csm.domain.reminders import (
    Due,
    at_risk_update,
    ebr_reminder,
    escalation_update,
    escalation_update_days,
    next_ebr,
    next_renewal_review,
    onboarding_end_note,
    priority_review,
    renewal_reviews,
    stale_health,
)
from gl_csm.errors import GlCsmError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results, failure_text
from gl_csm.registry import load_registry
from gl_csm.services.guards import require_internal_projects
from gl_csm.services.tracking import (
    ISSUE_TEMPLATES,
    CardExtra,
    UserIds,
    card_data,
    issue_link,
    label_delta,
    label_fields,
    money,
    plan_tracking_issue,
    render_template,
    safe_title,
    sentiment_since,
)
from gl_csm.templates import Trusted, mention

TRIAGE, ESCALATION, REMINDER = "triage", "escalation", "reminder"
TRIAGE_NOTE, ESCALATION_NOTE, TRACKING_NOTE = "triage-note", "escalation-note", "tracking-note"
TRIAGE_SCOPES = ("triage", "risk-type", "risk-reason", "risk-impact")
ESCALATION_SCOPES = ("escalation",)
_NOTIFIED = "<!-- gl-csm-notified: {color} -->"


# ---------------------------------------------------------------- small helpers


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``I/N`` (1-based, as CI's CI_NODE_INDEX/CI_NODE_TOTAL) -> (I, N)."""
    if not text:
        return None
    try:
        index, total = (int(p) for p in text.split("/", 1))
    except ValueError:
        raise UsageError(f"--shard: expected I/N like 2/5, got {text!r}") from None
    if total < 1 or not 1 <= index <= total:
        raise UsageError(f"--shard: expected 1 <= I <= N, got {text!r}")
    return index, total


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """A stable share: crc32 of the name, so an account stays in its shard across runs."""
    if shard is None:
        return True
    index, total = shard
    return zlib.crc32(name.encode("utf-8")) % total == index - 1


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso[:10]) if iso else None


def _carried(notes: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Every (kind, key) marker carried by the notes."""
    out: set[tuple[str, str]] = set()
    for note in notes:
        out.update(markers.markers_in(note.get("body")))
    return out


def last_person_note(notes: Iterable[Mapping[str, Any]]) -> date | None:
    """The date of the last note a person wrote (not a system note, not a bot note)."""
    days = [
        _day(n.get("created_at"))
        for n in notes
        if not n.get("system") and not markers.markers_in(n.get("body"))
    ]
    found = [d for d in days if d is not None]
    return max(found) if found else None


def _key_name(username: str) -> str:
    """A username as a marker key part (keys allow [a-z0-9._/:-])."""
    return username.lower().replace("_", ".")


@cache
def playbooks() -> dict[str, Any]:
    """Risk-type playbooks of handbook 000, kept as data in issue_templates/playbooks.yml."""
    path = ISSUE_TEMPLATES / "playbooks.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GlCsmError(f"{path}: cannot read the playbooks: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
        raise GlCsmError(f"{path}: expected a mapping with 'types' (risk type -> playbook)")
    return data


def at_risk_format() -> Trusted:
    # The bot's own text (no account data): trusted, rendered once.
    return Trusted(render_template("at_risk_update_format.md.j2", {}).strip())


class MilestoneIds:
    """Milestone ids of one project by title, listed once and created when missing,
    lazily inside the changes that need them (a no-op run reads none)."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._ids: dict[str, int] | None = None

    def id_for(self, gateway: Gateway, title: str, start: date, due: date) -> int:
        if self._ids is None:
            self._ids = {m["title"]: int(m["id"]) for m in gateway.milestones(self.project)}
        if title not in self._ids:
            made = gateway.create_milestone(
                self.project, title, start_date=start.isoformat(), due_date=due.isoformat()
            )
            self._ids[title] = int(made["id"])
        return self._ids[title]


# ---------------------------------------------------------------- the run


class ResultsPlan(Plan):
    """A plan that keeps the results of its changes (issues created in this run), so the
    per-account results can link them after apply."""

    def __init__(self) -> None:
        super().__init__()
        self.results: Results = {}

    def apply(self, gateway: Any, results: Results | None = None):  # type: ignore[no-untyped-def]
        return super().apply(gateway, self.results if results is None else results)


@dataclass
class TriageRun:
    """The plan, plus what the report needs about each account of this shard."""

    plan: ResultsPlan
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    shard: tuple[int, int] | None = None
    today: date | None = None

    def extra(self, failed: Iterable[str | None] = ()) -> dict[str, Any]:
        """The ``--format json`` payload `gl-csm report` merges (SPEC 7 ``extra``)."""
        broken = {f for f in failed if f}
        made = self.plan.results
        rows = []
        for slug, row in self.accounts.items():
            row = dict(row)
            if slug in broken:
                row["failed"] = True
            # Link what this run opened (the listing had no URL for it yet).
            for field_name, key in (
                ("tracking", f"tracking:{slug}"),
                ("triage", f"{TRIAGE}:{slug}"),
                ("escalation", f"{ESCALATION}:{slug}"),
            ):
                issue = made.get(key)
                if isinstance(issue, Mapping) and issue.get("web_url"):
                    row[field_name] = issue["web_url"]
            rows.append(row)
        return {
            "today": self.today.isoformat() if self.today else None,
            "shard": None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}",
            "accounts": rows,
        }


@dataclass
class _Ctx:
    gateway: Gateway
    settings: Settings
    today: date
    tracking: dict[str, dict]
    reminders: dict[str, dict]
    triage: dict[str, dict]
    escalations: dict[str, dict]
    users: UserIds
    milestones: MilestoneIds

    @property
    def projects(self):  # type: ignore[no-untyped-def]
        return self.settings.projects


def signals_of(issue: Mapping[str, Any] | None, settings: Settings) -> tuple[LabelSignals, bool]:
    """SPEC 4 LabelSignals from the tracking issue's labels, and `escalation::requested`."""
    labels = list((issue or {}).get("labels") or [])
    tax = settings.taxonomy
    return (
        LabelSignals(
            sentiment=tax.value_of(labels, "sentiment"),
            triage_needed=tax.name("triage::needed") in labels,
        ),
        tax.name("escalation::requested") in labels,
    )


def _catch_up_promote(ctx: _Ctx, run: TriageRun, slug: str) -> None:
    """`action::promote` still on a tracking issue: its webhook was missed (or there is
    none); the scheduled run does what `gl-csm react` would (ARCHITECTURE: the
    scheduled run re-reads every trigger label). Planned after the account's triage, so
    a refused promote (not paid yet) names itself and leaves the triage done."""
    from gl_csm.services.promote import plan_promote_on_label

    tracking = ctx.tracking.get(slug)
    label = ctx.settings.taxonomy.name("action::promote")
    if tracking is None or label not in (tracking.get("labels") or []):
        return
    try:
        promote = plan_promote_on_label(
            ctx.gateway, ctx.settings, slug, ctx.today, tracking["iid"], label
        )
    except Exception as exc:  # noqa: BLE001 - one account never stops the others
        # No account on the failure: exit 1 naming it, without skipping the triage.
        run.plan.fail(None, f"{slug}: {label} not done: {failure_text(exc)}")
        return
    run.plan.extend(promote)


def plan_triage(
    gateway: Gateway,
    settings: Settings,
    today: date,
    *,
    shard: tuple[int, int] | None = None,
    users: UserIds | None = None,
    only: str | None = None,
) -> TriageRun:
    """``only``: plan that one account (`gl-csm react`, SPEC 5 React: "triage that
    account now"); the per-CSM priority reviews are then left to the scheduled run."""
    _, projects = settings.require_layout("triage")
    # SPEC 1: refuse (exit 2, nothing written) when an internal project is public.
    require_internal_projects(gateway, projects)
    registry = load_registry(settings.accounts_dir)
    run = TriageRun(ResultsPlan(), shard=shard, today=today)
    for problem in registry.problems:
        stem = Path(problem.file).stem
        if in_shard(stem, shard) and only in (None, stem):
            run.plan.fail(stem, str(problem))
            run.accounts[stem] = {"slug": stem, "failed": True, "error": str(problem)}

    account_issues = gateway.issues(projects.accounts, state="all")
    ctx = _Ctx(
        gateway=gateway,
        settings=settings,
        today=today,
        tracking=markers.index_by_marker(account_issues, "tracking"),
        reminders=markers.index_by_marker(account_issues, REMINDER),
        triage=markers.index_by_marker(gateway.issues(projects.triage, state="opened"), TRIAGE),
        escalations=markers.index_by_marker(
            gateway.issues(projects.escalations, state="opened"), ESCALATION
        ),
        users=users or UserIds(),
        milestones=MilestoneIds(projects.triage),
    )
    assessments: dict[str, Assessment] = {}
    for account in registry.accounts:
        signals, _ = signals_of(ctx.tracking.get(account.slug), settings)
        assessments[account.slug] = assess(account, settings.rules, today, signals)

    for account in registry.accounts:
        if not in_shard(account.slug, shard) or only not in (None, account.slug):
            continue
        local = Plan()
        try:
            row = _plan_account(ctx, local, account, assessments[account.slug])
        except Exception as exc:  # noqa: BLE001 - one account never stops the others
            message = failure_text(exc)
            run.plan.fail(account.slug, message)
            run.accounts[account.slug] = {"slug": account.slug, "failed": True, "error": message}
            continue
        run.plan.extend(local)
        run.accounts[account.slug] = row
        if only is None:
            _catch_up_promote(ctx, run, account.slug)

    if only is None:
        _plan_priority_reviews(ctx, run.plan, registry.accounts, assessments, shard)
    return run


# ---------------------------------------------------------------- one account


def _link_or_pending(
    issue: Mapping[str, Any] | None, role_key: tuple[str, str], pending: list[tuple[str, str]]
) -> str | None:
    """The report's link to an open issue; one this run opens is linked after apply."""
    if issue is not None:
        return issue.get("web_url")
    return "(opened in this run)" if role_key in pending else None


def _plan_account(ctx: _Ctx, plan: Plan, account: Account, a: Assessment) -> dict[str, Any]:
    settings, today, gw = ctx.settings, ctx.today, ctx.gateway
    slug = account.slug
    tracking = ctx.tracking.get(slug)
    _, escalation_label = signals_of(tracking, settings)
    h = a.health
    sentiment = h.sentiment if h else None
    previous = card_data((tracking or {}).get("description"))
    since = sentiment_since(
        previous,
        sentiment,
        today,
        None if h is None or h.sentiment_from_label else account.sentiment.updated,
    )
    notify = who_to_tell(account, h.color if h else None, sentiment, settings.people)

    row: dict[str, Any] = {
        "slug": slug,
        "name": account.name,
        "csm": account.team.csm,
        "segment": account.segment,
        "region": account.region,
        "digital": account.digital,
        "priority": a.priority.priority,
        "health": None if h is None else h.color,
        "score": _score(a),
        "sentiment": sentiment,
        "color": notify.color,
        "needs_triage": a.needs_triage,
        "lifecycle": a.lifecycle,
        "arr": account.arr,
        "renewal_date": None if account.renewal_date is None else account.renewal_date.isoformat(),
        "triage": None,
        "at_risk_due": None,
        "escalation": None,
        "escalation_severity": None,
        "tracking": (tracking or {}).get("web_url"),
    }
    pending: list[tuple[str, str]] = []

    # 1. reminder issues in the accounts project (SPEC 5.2)
    reminders_open = _plan_reminder_issues(ctx, plan, account, a, pending)

    # 2. triage issue (SPEC 5.0, 5.1)
    triage_issue, at_risk_due = _plan_triage_issue(ctx, plan, account, a, notify, tracking, pending)
    row["triage"] = _link_or_pending(triage_issue, ("triage", f"{TRIAGE}:{slug}"), pending)
    row["at_risk_due"] = None if at_risk_due is None else at_risk_due.isoformat()

    # 3. escalation issue (SPEC 5.0)
    escalation_issue, severity = _plan_escalation(
        ctx, plan, account, a, escalation_label, tracking, triage_issue, pending
    )
    # None when closed in this run (the report lists open escalations only).
    row["escalation"] = _link_or_pending(
        escalation_issue, ("escalation", f"{ESCALATION}:{slug}"), pending
    )
    row["escalation_severity"] = severity

    # 4. notes on the tracking issue (stale health, end of onboarding), recorded in the card
    due_notes, data = _tracking_notes(ctx, account, a, previous, notify.color, sentiment, since)

    # 5. the tracking issue itself: labels and card, linking what the run opened
    extra = CardExtra(
        triage=triage_issue,
        escalation=escalation_issue,
        reminders=tuple(reminders_open),
        next_dates=_next_dates(ctx, account, a, at_risk_due),
        data=data,
        pending=tuple(pending),
    )
    # A note on an existing issue goes first, so the card records it only once it is
    # posted; on a new issue it follows the create (it needs the issue).
    if tracking is not None:
        _plan_tracking_notes(ctx, plan, account, tracking, due_notes)
    plan_tracking_issue(
        plan,
        gw,
        settings,
        account,
        today,
        existing=tracking,
        project=None,
        assessment=a,
        extra=extra,
        users=ctx.users,
    )
    if tracking is None:
        _plan_tracking_notes(ctx, plan, account, tracking, due_notes)
    return row


_DueNote = tuple[Due, str, dict[str, Any]]


def _tracking_notes(
    ctx: _Ctx,
    account: Account,
    a: Assessment,
    previous: Mapping[str, Any],
    color: str | None,
    sentiment: str | None,
    since: str | None,
) -> tuple[list[_DueNote], dict[str, Any]]:
    """SPEC 5.2 stale health and end of onboarding: the notes due now on the tracking
    issue (not yet recorded as posted in its card), and the card's new hidden data."""
    settings, today = ctx.settings, ctx.today
    posted = {k for k in previous.get("posted", []) if isinstance(k, str)}
    stale = stale_health(color, _day(since), today, settings.rules)
    onboarding = onboarding_end_note(account, today, settings.rules)
    csm = mention(account.team.csm)
    due_notes: list[_DueNote] = []
    if stale is not None and stale.key not in posted:
        context = {
            "csm": csm,
            "color": color,
            "sentiment": sentiment,
            "since": since,
            "days": settings.rules.cadence.stale_health_days,
        }
        due_notes.append((stale, "note_stale_health.md.j2", context))
    if onboarding is not None and onboarding.key not in posted:
        context = {
            "csm": csm,
            "ended": onboarding.due,
            "priority": a.priority.priority,
            "reasons": "; ".join(a.priority.reasons),
        }
        due_notes.append((onboarding, "note_onboarding_end.md.j2", context))
    data: dict[str, Any] = {}
    if sentiment is not None:
        data = {"sentiment": sentiment, "since": since}
    # Only keys still relevant are kept, so the card does not grow forever.
    relevant = {d.key for d in (stale, onboarding) if d is not None}
    now_posted = sorted((posted | {d.key for d, _, _ in due_notes}) & relevant)
    if now_posted:
        data["posted"] = now_posted
    return due_notes, data


def _plan_tracking_notes(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    tracking: Mapping[str, Any] | None,
    due_notes: list[_DueNote],
) -> None:
    """The notes on the tracking issue; a new one is taken from the plan results."""
    slug = account.slug
    for due, template, context in due_notes:
        _plan_note(
            plan,
            ctx.projects.accounts,
            None if tracking is None else tracking["iid"],
            f"tracking:{slug}" if tracking is None else None,
            TRACKING_NOTE,
            f"{slug}:{due.key}",
            template,
            {"account": account, **context},
            f"{due.detail} ({slug})",
            slug,
        )


def _next_dates(
    ctx: _Ctx, account: Account, a: Assessment, at_risk_due: date | None
) -> tuple[tuple[str, str], ...]:
    """The card's "next due dates" (SPEC 5.2 cadences)."""
    rules, today = ctx.settings.rules, ctx.today
    out: list[tuple[str, str]] = []
    if account.renewal_date:
        out.append(("Renewal", account.renewal_date.isoformat()))
    if at_risk_due is not None:
        out.append(("Next at-risk update", at_risk_due.isoformat()))
    if account.pre_sales or account.lifecycle == "churned":
        return tuple(out)
    review = next_renewal_review(account.renewal_date, today, rules)
    if review:
        out.append(("Next renewal review", review.isoformat()))
    ebr = next_ebr(account.customer_since, today, rules)
    if ebr:
        out.append(("Next EBR", ebr.isoformat()))
    if account.team.csm and a.priority.priority is not None:
        out.append(("Priority review", priority_review(today, rules).due.isoformat()))
    return tuple(out)


def _plan_note(
    plan: Plan,
    project: str,
    iid: int | None,
    iid_from: str | None,
    kind: str,
    key: str,
    template: str,
    context: Mapping[str, Any],
    detail: str,
    slug: str,
) -> None:
    """A bot note carrying marker (kind, key); ``iid_from`` takes the issue from the
    results of an earlier change (an issue created in this run)."""
    body = render_template(template, {"marker": Trusted(markers.marker(kind, key)), **context})
    token = markers.token(kind, key)

    def post(gw: Gateway, results: Results) -> dict:
        target = iid if iid is not None else results[iid_from]["iid"]  # type: ignore[index]
        return gw.create_note(project, target, body, token)

    where = f"{project}#{iid}" if iid is not None else f"{project} (issue opened in this run)"
    plan.add("create-note", where, detail, post, account=slug)


@dataclass
class _OpenIssue:
    """An open triage or escalation issue of one account, its notes read once: the
    notes the bot posts on it (each once, found by marker) and its closing."""

    plan: Plan
    project: str
    issue: Mapping[str, Any]
    note_kind: str
    what: str  # "triage issue", for the plan's text
    slug: str
    notes: list[dict]

    @classmethod
    def read(
        cls,
        ctx: _Ctx,
        plan: Plan,
        project: str,
        issue: Mapping[str, Any],
        note_kind: str,
        what: str,
        slug: str,
    ) -> _OpenIssue:
        return cls(
            plan, project, issue, note_kind, what, slug, ctx.gateway.notes(project, issue["iid"])
        )

    @property
    def iid(self) -> int:
        return int(self.issue["iid"])

    @property
    def where(self) -> str:
        return f"{self.project}#{self.iid} ({self.what} of {self.slug})"

    @property
    def labels(self) -> list[str]:
        return list(self.issue.get("labels") or [])

    @cached_property
    def carried(self) -> set[tuple[str, str]]:
        return _carried(self.notes)

    def posted(self, key: str) -> bool:
        return (self.note_kind, f"{self.slug}:{key}") in self.carried

    def note(self, key: str, template: str, context: Mapping[str, Any], detail: str) -> None:
        """A bot note keyed ``SLUG:key``, unless one of the notes already carries it."""
        if not self.posted(key):
            _plan_note(
                self.plan,
                self.project,
                self.iid,
                None,
                self.note_kind,
                f"{self.slug}:{key}",
                template,
                context,
                detail,
                self.slug,
            )

    def close(self, why: str) -> None:
        project, iid = self.project, self.iid
        self.plan.add(
            "close-issue",
            self.where,
            why,
            lambda gw, _r: gw.update_issue(project, iid, state_event="close"),
            account=self.slug,
        )


def _plan_bot_issue(
    ctx: _Ctx,
    plan: Plan,
    *,
    project: str,
    kind: str,
    key: str,
    title: str,
    body: str | Callable[[Results], str],
    fields: Mapping[str, Any],
    assignee: str | None,
    target: str,
    detail: str,
    account: str | None,
    milestone: tuple[str, date, date] | None = None,
    reuses_marker: bool = False,
) -> str:
    """Plan creating one bot issue carrying marker (kind, key), assigned to ``assignee``.

    User and milestone ids are resolved while the change runs (a no-op run reads none);
    ``body`` may depend on the results of earlier changes. Returns the results key.
    """
    token = markers.token(kind, key)
    result_key = f"{kind}:{key}"

    def create(gw: Gateway, results: Results) -> dict:
        description = body(results) if callable(body) else body
        data = {**fields, **ctx.users.assignees(gw, [assignee])}
        if milestone:
            data["milestone_id"] = ctx.milestones.id_for(gw, *milestone)
        return gw.create_issue(
            project, title, description, token, reuses_marker=reuses_marker, **data
        )

    plan.add("create-issue", target, detail, create, key=result_key, account=account)
    return result_key


def _score(a: Assessment) -> float | None:
    h = a.health
    return None if h is None or h.score is None else round(h.score, 1)


def _risk_labels(account: Account, settings: Settings) -> list[str]:
    """Scoped labels hold one value per scope: the first (primary) of each list."""
    tax = settings.taxonomy
    out = []
    for scope, values in (
        ("risk-type", account.risk.types),
        ("risk-reason", account.risk.reasons),
        ("risk-impact", account.risk.impacts),
    ):
        if values:
            out.append(tax.name(f"{scope}::{values[0]}"))
    return out


def _drivers(a: Assessment) -> list[str]:
    """What made the health: overrides and every yellow or red measure."""
    h = a.health
    if h is None:
        return []
    out = [f"override: {o}" for o in h.overrides]
    for m in h.measures:
        if m.color in ("yellow", "red"):
            value = m.note or (m.value if m.value is not None else "")
            out.append(f"{m.name} is {m.color}: {value}")
    return out


def _triage_reasons(account: Account, a: Assessment) -> list[str]:
    h = a.health
    out = []
    if h is not None and h.color == "red":
        score = "" if h.score is None else f" (score {h.score:.1f})"
        out.append(f"health is red{score}")
    if account.sentiment.needs_triage:
        out.append("the CSM asked for triage (sentiment.needs_triage in the registry)")
    if a.signals.triage_needed:
        out.append("the triage::needed label is set on the tracking issue")
    return out or ["the account needs triage"]


def _people_lines(notify: Notify) -> list[tuple[str, Trusted]]:
    return [(role, mention(name)) for role, name in notify.people]


def _milestone(account: Account, settings: Settings) -> tuple[str, date, date] | None:
    """SPEC 5.0: a milestone named after the fiscal quarter of the renewal."""
    if account.renewal_date is None:
        return None
    q = fiscal_quarter(account.renewal_date, settings.rules.fiscal_year_start_month)
    return (
        milestone_name(account.renewal_date, settings.rules.fiscal_year_start_month),
        q.start,
        q.end,
    )


def _plan_triage_issue(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    pending: list[tuple[str, str]],
) -> tuple[dict | None, date | None]:
    """Open, keep up to date, propose to leave, or close the account's triage issue.

    Returns the open triage issue (None when there is none after this run) and the
    date the next at-risk update is due.
    """
    issue = ctx.triage.get(account.slug)
    ms = _milestone(account, ctx.settings)
    if issue is not None:
        return _plan_open_triage_issue(ctx, plan, account, a, notify, tracking, issue, ms)
    if not a.needs_triage:
        return None, None
    return None, _plan_new_triage_issue(ctx, plan, account, a, notify, tracking, pending, ms)


def _plan_new_triage_issue(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    pending: list[tuple[str, str]],
    ms: tuple[str, date, date] | None,
) -> date:
    """SPEC 5.0: open the triage issue with everything it carries and the people of
    SPEC 5.1 mentioned; returns the date the first at-risk update is due."""
    settings, today = ctx.settings, ctx.today
    tax = settings.taxonomy
    project = ctx.projects.triage
    slug = account.slug
    csm = account.team.csm
    key = f"{TRIAGE}:{slug}"
    at = at_risk_update(today, None, account.renewal_date, today, settings.rules)
    h = a.health
    cadence = "weekly" if at.weekly else "monthly"
    labels = [tax.name("triage::open"), *_risk_labels(account, settings)]
    multi = any(
        len(v) > 1 for v in (account.risk.types, account.risk.reasons, account.risk.impacts)
    )
    types = [t for t in account.risk.types if t in playbooks()["types"]]
    description = render_template(
        "triage_issue.md.j2",
        {
            "marker": Trusted(markers.marker(TRIAGE, slug)),
            "notified_marker": Trusted(_NOTIFIED.format(color=notify.color or "none")),
            "account": account,
            "project_link": account.project or "- (not onboarded yet)",
            "tracking_link": issue_link(tracking, "")
            if tracking
            else "(the account's tracking issue)",
            "milestone": ms[0] if ms else None,
            "arr": money(account.arr),
            "health": h.color if h else "-",
            "score": _score(a),
            "sentiment": h.sentiment if h else None,
            "cadence": f"{cadence} (every {at.every_days} days)",
            "next_due": at.next_due,
            "csm": csm or "-",
            "triage_reasons": _triage_reasons(account, a),
            "drivers": _drivers(a),
            "risk_types": ", ".join(account.risk.types),
            "risk_reasons": ", ".join(account.risk.reasons),
            "risk_impacts": ", ".join(account.risk.impacts),
            "risk_labels_note": "Scoped labels hold one value per scope: this issue is "
            "labelled with the first value of each list; all of them are listed above."
            if multi
            else "",
            "color": notify.color or "none",
            "people": _people_lines(notify),
            "at_risk_format": at_risk_format(),
            "common_discovery": playbooks().get("common_discovery", ""),
            "playbooks": [playbooks()["types"][t] for t in types],
        },
    )
    title = safe_title(f"Account triage: {account.name}")
    _plan_bot_issue(
        ctx,
        plan,
        project=project,
        kind=TRIAGE,
        key=slug,
        title=title,
        body=description,
        fields={"labels": ",".join(labels), "due_date": at.next_due.isoformat()},
        assignee=csm,
        milestone=ms,
        reuses_marker=True,
        target=f"{project} triage issue of {slug}",
        detail=f"{title!r}, mentioning {', '.join(notify.usernames) or 'nobody'}",
        account=slug,
    )
    pending.append(("triage", key))
    return at.next_due


def _plan_open_triage_issue(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    issue: dict,
    ms: tuple[str, date, date] | None,
) -> tuple[dict | None, date | None]:
    """The account's open triage issue: close it on ``triage::resolved``, else propose
    leaving (green) or remind and notify, and keep its labels, due date and milestone."""
    settings, today = ctx.settings, ctx.today
    tax = settings.taxonomy
    project = ctx.projects.triage
    slug = account.slug
    open_issue = _OpenIssue.read(ctx, plan, project, issue, TRIAGE_NOTE, "triage issue", slug)
    iid, labels, note = open_issue.iid, open_issue.labels, open_issue.note
    h = a.health

    if tax.name("triage::resolved") in labels:
        # SPEC 5: close only when a person adds triage::resolved.
        note(
            "closed",
            "triage_closed.md.j2",
            {
                "health": h.color if h else "-",
                "score": _score(a),
                "sentiment": h.sentiment if h else None,
                "tracking_link": issue_link(tracking) if tracking else "-",
            },
            "closing note with the resolution format",
        )
        open_issue.close("triage::resolved was set by a person")
        return None, None

    opened = _day(issue.get("created_at")) or today
    last = last_person_note(open_issue.notes)
    at = at_risk_update(opened, last, account.renewal_date, today, settings.rules)
    exit_ready = not a.needs_triage and notify.color == "green"
    csm = mention(account.team.csm)
    if exit_ready:
        note(
            "exit-proposal",
            "resolution_update.md.j2",
            {"account": account, "csm": csm, "score": _score(a)},
            "health back to green: propose leaving triage",
        )
    else:
        if at.reminder is not None:
            note(
                at.reminder.key,
                "at_risk_reminder.md.j2",
                {
                    "account": account,
                    "csm": csm,
                    "weekly": at.weekly,
                    "cadence": "weekly" if at.weekly else "monthly",
                    "last_update": last.isoformat() if last else f"never (opened {opened})",
                    "at_risk_format": at_risk_format(),
                },
                at.reminder.detail,
            )
        _plan_newly_notified(ctx, account, notify, open_issue)

    want = [tax.name("triage::exit-proposed" if exit_ready else "triage::open")]
    want += _risk_labels(account, settings)
    fields, parts = label_fields(*label_delta(labels, want, TRIAGE_SCOPES, tax))
    if not exit_ready and issue.get("due_date") != at.next_due.isoformat():
        fields["due_date"] = at.next_due.isoformat()
        parts.append(f"due date {at.next_due} (next at-risk update)")
    move = ms if ms is not None and (issue.get("milestone") or {}).get("title") != ms[0] else None
    if move:
        parts.append(f"milestone {move[0]}")
    if parts:

        def update(gw: Gateway, _r: Results) -> dict:
            data: dict[str, Any] = dict(fields)
            if move:
                data["milestone_id"] = ctx.milestones.id_for(gw, *move)
            return gw.update_issue(project, iid, **data)

        plan.add("update-issue", open_issue.where, "; ".join(parts), update, account=slug)
    return issue, (None if exit_ready else at.next_due)


_NOTIFIED_RE = re.compile(r"<!-- gl-csm-notified: ([a-z]+) -->")


def _plan_newly_notified(ctx: _Ctx, account: Account, notify: Notify, issue: _OpenIssue) -> None:
    """SPEC 5.1 when the color worsens on an open triage issue: one note mentioning the
    people of the new color who were not told yet (the issue's description records the
    color it was opened with; each later note carries its color in its marker)."""
    if notify.color not in ("yellow", "red"):
        return
    found = _NOTIFIED_RE.search(issue.issue.get("description") or "")
    told: str | None = found.group(1) if found else None
    for color in ("yellow", "red"):
        if issue.posted(color):
            told = worse_color(told, color)
    if worse_color(told, notify.color) == told:
        return  # already told at this color or worse
    known = {name for _, name in who_to_tell(account, told, None, ctx.settings.people).people}
    new = Notify(notify.color, tuple((r, n) for r, n in notify.people if n not in known))
    issue.note(
        notify.color,
        "triage_red.md.j2",
        {"color": notify.color, "people": _people_lines(new)},
        f"account turned {notify.color}: notify the {notify.color}-rating people",
    )


def _plan_escalation(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    escalation_label: bool,
    tracking: Mapping[str, Any] | None,
    triage_issue: Mapping[str, Any] | None,
    pending: list[tuple[str, str]],
) -> tuple[dict | None, str | None]:
    """SPEC 5.0 escalation: open when red and requested; remind by severity; close on
    ``escalation::resolved`` asking the three closure questions."""
    slug = account.slug
    issue = ctx.escalations.get(slug)
    red = a.health is not None and a.health.color == "red"
    triage_link: Any = (
        issue_link(triage_issue)
        if triage_issue
        else (
            "(the triage issue opened in this run)"
            if ("triage", f"{TRIAGE}:{slug}") in pending
            else "(no open triage issue)"
        )
    )

    if issue is not None:
        return _plan_open_escalation(ctx, plan, account, a, issue, red, triage_link)
    if not (red and (account.risk.escalation_requested or escalation_label)):
        return None, None
    return None, _plan_new_escalation(
        ctx, plan, account, a, escalation_label, tracking, triage_link, pending
    )


def _plan_new_escalation(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    escalation_label: bool,
    tracking: Mapping[str, Any] | None,
    triage_link: Any,
    pending: list[tuple[str, str]],
) -> str:
    """Open the confidential escalation issue (SPEC 5.0); returns its severity."""
    tax = ctx.settings.taxonomy
    project = ctx.projects.escalations
    slug = account.slug
    csm = account.team.csm
    key = f"{ESCALATION}:{slug}"
    severity = "high"  # SPEC 5.0 default; people change the label
    labels = [tax.name("escalation::open"), tax.name(f"escalation-severity::{severity}")]
    by = " and ".join(
        p
        for p, on in (
            ("risk.escalation_requested in the registry", account.risk.escalation_requested),
            ("the escalation::requested label on the tracking issue", escalation_label),
        )
        if on
    )
    context = {
        "marker": Trusted(markers.marker(ESCALATION, slug)),
        "account": account,
        "severity": severity,
        "csm": csm or "-",
        "tracking_link": issue_link(tracking) if tracking else "(the account's tracking issue)",
        "arr": money(account.arr),
        "requested_by": by,
        "drivers": _drivers(a),
        "risk_types": ", ".join(account.risk.types),
        "risk_reasons": ", ".join(account.risk.reasons),
        "risk_impacts": ", ".join(account.risk.impacts),
    }
    title = safe_title(f"Account escalation: {account.name}")

    def describe(results: Results) -> str:
        # Link the triage issue this run opened, when it did.
        made_triage = results.get(f"{TRIAGE}:{slug}")
        link = issue_link(made_triage) if made_triage else triage_link
        return render_template("escalation_issue.md.j2", {**context, "triage_link": link})

    _plan_bot_issue(
        ctx,
        plan,
        project=project,
        kind=ESCALATION,
        key=slug,
        title=title,
        body=describe,
        fields={"labels": ",".join(labels), "confidential": True},
        assignee=csm,
        reuses_marker=True,
        target=f"{project} escalation issue of {slug}",
        detail=f"{title!r} (confidential, severity {severity})",
        account=slug,
    )
    pending.append(("escalation", key))
    return severity


def _plan_open_escalation(
    ctx: _Ctx,
    plan: Plan,
    account: Account,
    a: Assessment,
    issue: Mapping[str, Any],
    red: bool,
    triage_link: Any,
) -> tuple[dict | None, str | None]:
    """The open escalation issue: close it on ``escalation::resolved``, ask the closure
    questions once it is no longer red, else remind by severity."""
    settings, today = ctx.settings, ctx.today
    tax = settings.taxonomy
    project = ctx.projects.escalations
    slug = account.slug
    csm = account.team.csm
    h = a.health
    open_issue = _OpenIssue.read(
        ctx, plan, project, issue, ESCALATION_NOTE, "escalation issue", slug
    )
    note = open_issue.note
    severity = tax.value_of(open_issue.labels, "escalation-severity") or "high"
    closure = {"csm": mention(csm), "health": h.color if h else "-", "triage_link": triage_link}
    if tax.name("escalation::resolved") in open_issue.labels:
        note(
            "closed",
            "escalation_closure.md.j2",
            {**closure, "closing": True},
            "closing note with the three closure questions",
        )
        open_issue.close("escalation::resolved was set by a person")
        return None, severity
    if not red:
        note(
            "closure-proposal",
            "escalation_closure.md.j2",
            {**closure, "closing": False},
            "account no longer red: ask the closure questions",
        )
        return issue, severity
    opened = _day(issue.get("created_at")) or today
    last = last_person_note(open_issue.notes)
    due = escalation_update(severity, opened, last, today, settings.rules)
    if due is not None:
        note(
            due.key,
            "escalation_update.md.j2",
            {
                "account": account,
                "csm": mention(csm),
                "severity": severity,
                "every": escalation_update_days(severity, settings.rules),
                "last_update": last.isoformat() if last else f"never (opened {opened})",
            },
            due.detail,
        )
    return issue, severity


# ---------------------------------------------------------------- reminder issues


def _reminder_token(slug: str, due: Due) -> tuple[str, str]:
    return REMINDER, f"{slug}:{due.key}"


def _plan_reminder_issues(
    ctx: _Ctx, plan: Plan, account: Account, a: Assessment, pending: list[tuple[str, str]]
) -> list[dict]:
    """Renewal reviews and EBR issues (SPEC 5.2), each created once; returns the open
    reminder issues of the account (for the card)."""
    slug = account.slug
    prefix = f"{slug}:"
    open_ones = [
        issue
        for key, issue in sorted(ctx.reminders.items())
        if key.startswith(prefix) and issue.get("state") == "opened"
    ]
    csm = account.team.csm
    if account.pre_sales or csm is None or account.lifecycle == "churned":
        return open_ones
    rules, today = ctx.settings.rules, ctx.today
    dues: list[tuple[Due, str, str, dict[str, Any]]] = []
    common = {
        "account": account,
        "arr": money(account.arr),
        "csm": mention(csm),
        "ae": mention(account.team.ae) or "-",
        "sa": mention(account.team.sa) or "-",
        "tracking_link": issue_link(ctx.tracking.get(slug))
        if ctx.tracking.get(slug)
        else "(the account's tracking issue)",
    }
    for due in renewal_reviews(account.renewal_date, today, rules):
        months = due.key.rsplit(":", 1)[1]
        dues.append(
            (
                due,
                "reminder_renewal_review.md.j2",
                f"Renewal review ({months} months out): {account.name}",
                {**common, "months": months, "due": due.due},
            )
        )
    ebr = ebr_reminder(account.customer_since, today, rules)
    if ebr is not None:
        dues.append(
            (
                ebr,
                "reminder_ebr.md.j2",
                f"Executive Business Review: {account.name}",
                {**common, "due": ebr.due},
            )
        )
    for due, template, title, context in dues:
        kind, key = _reminder_token(slug, due)
        if key in ctx.reminders:
            continue
        _plan_reminder_issue(
            ctx, plan, kind, key, title, template, context, csm, max(due.due, today), slug
        )
        pending.append(("reminder", f"{kind}:{key}"))
    return open_ones


def _plan_reminder_issue(
    ctx: _Ctx,
    plan: Plan,
    kind: str,
    key: str,
    title: str,
    template: str,
    context: Mapping[str, Any],
    csm: str,
    due: date,
    account: str | None,
) -> None:
    project = ctx.projects.accounts
    title = safe_title(title)
    _plan_bot_issue(
        ctx,
        plan,
        project=project,
        kind=kind,
        key=key,
        title=title,
        body=render_template(template, {"marker": Trusted(markers.marker(kind, key)), **context}),
        fields={"due_date": due.isoformat()},
        assignee=csm,
        target=f"{project} reminder",
        detail=f"{title!r} due {due}, assigned to {csm}",
        account=account,
    )


def _plan_priority_reviews(
    ctx: _Ctx,
    plan: Plan,
    accounts: Iterable[Account],
    assessments: Mapping[str, Assessment],
    shard: tuple[int, int] | None,
) -> None:
    """handbook 001: quarterly priority review, one issue per CSM listing their book.
    Each CSM belongs to one shard (crc32 of the username)."""
    books: dict[str, list[Assessment]] = {}
    for account in accounts:
        a = assessments[account.slug]
        if account.team.csm and a.priority.priority is not None and not account.digital:
            books.setdefault(account.team.csm, []).append(a)
    due = priority_review(ctx.today, ctx.settings.rules)
    for csm, book in sorted(books.items()):
        if not in_shard(f"csm:{csm}", shard):
            continue
        kind, key = REMINDER, f"csm.{_key_name(csm)}:{due.key}"
        if key in ctx.reminders:
            continue
        rows = [
            {
                "name": a.account.name,
                "segment": a.account.segment,
                "priority": a.priority.priority,
                "health": a.health_color or "-",
                "why": "; ".join(a.priority.reasons),
            }
            for a in sorted(book, key=lambda x: (x.priority.priority or 9, x.account.name))
        ]
        quarter = fiscal_quarter(ctx.today, ctx.settings.rules.fiscal_year_start_month).name
        context = {"quarter": quarter, "csm_name": csm, "csm": mention(csm), "book": rows}
        _plan_reminder_issue(
            ctx,
            plan,
            kind,
            key,
            f"Priority review {quarter}: {csm}",
            "reminder_priority_review.md.j2",
            context,
            csm,
            max(due.due, ctx.today),
            f"csm:{csm}",
        )
