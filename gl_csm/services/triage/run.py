"""`gl-csm triage` (SPEC 5 Triage, 5.0, 5.1, 5.2): one plan over every account.

For each account: assess it with the labels people set on its tracking issue (SPEC 4),
make the tracking issue match (labels, card), open / keep / propose to leave / close
its triage issue, open / remind / close its confidential escalation issue, mention the
people of SPEC 5.1, and post the reminders of SPEC 5.2, each once (found by marker).

Reads are bounded so a no-op rerun costs at most ceil(N/100) x 3 + 3, however many
accounts are at risk:

* the three internal projects (the guard: none may be public);
* the open issues of ``projects.accounts`` in one listing (tracking, reminder and
  checklist issues, found by their markers; the labels people set are inputs); its
  closed issues are known from what the cards record, and read only to prove a key
  absent before a create (:mod:`~gl_csm.services.triage.past_issues`);
* the open issues of ``projects.triage`` and of ``projects.escalations``, once each;
* the notes of an open triage / escalation issue only when its ``user_notes_count``
  differs from the one its tracking card records with the facts the bot needs (last
  note by a person, bot notes posted; bot_issues.py);
* user ids and milestone ids are looked up lazily inside the changes that need them.

A first run sends one write per object it creates: notes due on a tracking issue it
creates go in the create.

"Stale health" needs no label events: the card's hidden data records when the bot
first saw the current sentiment. Everything runs as one :class:`Plan`; an account that
fails to plan or apply is named and never stops the others (exit 1).
This module is the orchestration (the run, its accounts, the report payload); each
part lives in its own module: :mod:`~gl_csm.services.triage.triage_issue`,
:mod:`~gl_csm.services.triage.escalation`, :mod:`~gl_csm.services.triage.reminder_issues`,
:mod:`~gl_csm.services.triage.tracking_notes`, on top of :mod:`~gl_csm.services.triage.bot_issues`
(issues and notes planned once, by marker), :mod:`~gl_csm.services.triage.context`
(what they share) and :mod:`~gl_csm.services.triage.shards`.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.config import Projects, Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.history import HistoryRow, changes, measures_before, row_of
from gl_csm.domain.notify import region_problem, who_to_tell
from gl_csm.domain.rules import TEAM_ROLES
from gl_csm.errors import GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results, failure_text
from gl_csm.registry import Registry, load_registry
from gl_csm.services import lookup, triggers
from gl_csm.services.collaboration import team_sync
from gl_csm.services.guards import require_internal_projects
from gl_csm.services.label_signals import signals_of
from gl_csm.services.moves import will_churn
from gl_csm.services.moves.will_churn import KIND as WILL_CHURN
from gl_csm.services.tracking import (
    BOT_SCOPES,
    NOTES_KEY,
    CardExtra,
    UserIds,
    card_data,
    plan_card_links,
    plan_tracking_issue,
    sentiment_since,
)
from gl_csm.services.triage import evidence as gl_evidence
from gl_csm.services.triage import scoped_labels
from gl_csm.services.triage.bot_issues import note_records
from gl_csm.services.triage.context import (
    ESCALATION,
    REMINDER,
    TRIAGE,
    MilestoneIds,
    TriageContext,
    opened_day,
    score_of,
)
from gl_csm.services.triage.escalation import plan_escalation
from gl_csm.services.triage.history import (
    History,
    history_data,
    load_history,
    plan_history,
    window_start,
)
from gl_csm.services.triage.past_issues import (
    CHECKLIST_KEY,
    PastIssues,
    ProvenIndex,
    recorder_of,
)
from gl_csm.services.triage.reminder_issues import (
    next_dates,
    past_record,
    plan_priority_reviews,
    plan_reminder_issues,
)
from gl_csm.services.triage.shards import in_shard, parse_shard
from gl_csm.services.triage.tracking_notes import (
    DueNote,
    notes_text,
    plan_tracking_notes,
    tracking_notes,
)
from gl_csm.services.triage.triage_issue import plan_triage_issue

__all__ = ["TriageRun", "in_shard", "parse_shard", "plan_triage", "signals_of"]


# ---------------------------------------------------------------- the run


class ResultsPlan(Plan):
    """A plan that keeps the results of its changes (issues created in this run), so the
    per-account results can link them after apply."""

    def __init__(self) -> None:
        super().__init__()
        self.results: Results = {}

    def apply(self, gateway: Any, results: Results | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return super().apply(gateway, self.results if results is None else results, **kwargs)


@dataclass
class TriageRun:
    """The plan, plus what the report needs about each account of this shard."""

    plan: ResultsPlan
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    shard: tuple[int, int] | None = None
    today: date | None = None
    #: Each planned account's history row (domain/history.py ``row_of``), built once
    #: while planning it and reused by the run's history changes.
    history_rows: dict[str, HistoryRow] = field(default_factory=dict)

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
            # The "cannot be told" warnings (CI runs --format json): carried to the
            # summary issue by `gl-csm report`.
            "warnings": [n.removeprefix("warning: ") for n in self.plan.notes],
        }


def _people_scopes(issue: Mapping[str, Any], settings: Settings) -> list[str]:
    """The conflicted scopes of a tracking issue that people own (sentiment, ...). The
    bot's own scopes (tracking.BOT_SCOPES) are set from the assessment by the tracking
    update, which removes every other label of them: resolving them here first would
    plan keeping a label the same run then takes back (two contradicting writes)."""
    tax = settings.taxonomy
    return [
        scope
        for scope, names in scoped_labels.conflicts(issue.get("labels") or []).items()
        if not any((tax.canonical(n) or "").split("::")[0] in BOT_SCOPES for n in names)
    ]


def _promote_when_paid(ctx: TriageContext, run: TriageRun, account: Account) -> str | None:
    """`rules.promote.when_paid: auto` (SPEC 5 Promote): a paid account still in
    pre-sales is promoted in this run; with `action::promote` on the issue the catch-up
    promotes it instead. Returns the project's new path when a promote is planned."""
    tracking = ctx.tracking.get(account.slug)
    label = ctx.settings.taxonomy.name("action::promote")
    if tracking is not None and label in (tracking.get("labels") or []):
        return None
    try:
        promote = gl_evidence.promote_now(ctx.gateway, ctx.settings, account, tracking, ctx.today)
    except Exception as exc:  # noqa: BLE001 - one account never stops the others
        run.plan.fail(None, f"{account.slug}: promote not done: {failure_text(exc)}")
        return None
    if promote is None or ctx.settings.groups is None or not account.project:
        return None
    run.plan.extend(promote)
    return f"{ctx.settings.groups.post_sales}/{account.project.rsplit('/', 1)[1]}"


def plan_triage(
    gateway: Gateway,
    settings: Settings,
    today: date,
    *,
    shard: tuple[int, int] | None = None,
    users: UserIds | None = None,
    only: str | None = None,
    tracking_iid: int | None = None,
    progress: Any | None = None,
) -> TriageRun:
    """``only``: plan that one account (`gl-csm react`, SPEC 5 React: "triage that
    account now"); the per-CSM priority reviews are then left to the scheduled run.
    ``tracking_iid``: the account's tracking issue when the caller knows it (a webhook)."""
    _, projects = settings.require_layout("triage")
    with _collector_paused():
        registry, internal, history, listed = _read_portfolio(
            gateway, settings, projects, today, shard, only
        )
        return _plan_run(
            gateway,
            settings,
            today,
            projects,
            registry,
            internal,
            history,
            listed,
            shard=shard,
            users=users,
            only=only,
            tracking_iid=tracking_iid,
            progress=progress,
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The run keeps what it reads (listings, registry) until it ends and makes few
    reference cycles: the cyclic collector is paused while it reads and plans
    (``gc.disable``, Python docs "gc — Garbage Collector interface") instead of walking
    the listings again and again (a tenth of a no-op rerun's CPU). Objects are still
    freed by reference counting; the collector's state is restored at the end, so the
    writes run with it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan_run(
    gateway: Gateway,
    settings: Settings,
    today: date,
    projects: Projects,
    registry: Registry,
    internal: dict[str, Any],
    history: History,
    listed: dict[str, Any],
    *,
    shard: tuple[int, int] | None,
    users: UserIds | None,
    only: str | None,
    tracking_iid: int | None,
    progress: Any | None,
) -> TriageRun:
    """The plan of the accounts, from what :func:`_read_portfolio` read."""
    run = TriageRun(ResultsPlan(), shard=shard, today=today)
    for problem in registry.problems:
        stem = Path(problem.file).stem
        if in_shard(stem, shard) and only in (None, stem):
            run.plan.fail(stem, str(problem))
            run.accounts[stem] = {"slug": stem, "failed": True, "error": str(problem)}

    if only is not None:
        ctx = _one_account_context(gateway, settings, today, registry, only, users, tracking_iid)
        ctx.history = history.grouped()
    else:
        ctx = _portfolio_context(
            gateway, settings, today, projects, registry, listed, history, users, run, shard
        )
    ctx.accounts_project = internal["accounts"]
    if not settings.premium:
        _resolve_scoped_labels(ctx, run, projects, registry, shard, only)
    applied, assessments = _assess_accounts(ctx, registry, listed)
    if ctx.past is not None:
        books: dict[str, list[str]] = {}
        for account in registry.accounts:
            if account.team.csm and assessments[account.slug].priority.priority is not None:
                books.setdefault(account.team.csm, []).append(account.slug)
        ctx.past.recorders = recorder_of(books)

    mine = [a for a in registry.accounts if in_shard(a.slug, shard) and only in (None, a.slug)]
    _plan_accounts(ctx, run, mine, applied, assessments, only, progress)

    if only is None:
        plan_priority_reviews(ctx, run.plan, registry.accounts, assessments, shard)
    # Last, once per scheduled run: the accounts whose health, score, priority or
    # lifecycle changed (a one-account reaction leaves it to the scheduled run, which
    # compares with the history, so the change is recorded that day all the same).
    if only is None:
        done = [
            run.history_rows.get(slug) or row_of(today, slug, r)
            for slug, r in run.accounts.items()
            if not r.get("failed")
        ]
        moved = changes(history.latest(), done, measures_before(history.rows, today))
        plan_history(run.plan, history, moved, today, shard)
    return run


def _read_portfolio(
    gateway: Gateway,
    settings: Settings,
    projects: Projects,
    today: date,
    shard: tuple[int, int] | None,
    only: str | None,
) -> tuple[Registry, dict[str, Any], History, dict[str, Any]]:
    """The registry, the internal projects, the history and the open issues' listings
    (none for one account), read side by side."""
    with ThreadPoolExecutor(4, thread_name_prefix="gl-csm-prefetch") as pool:
        # GitLab is read while the registry is parsed (the no-op rerun's
        # wall time is these reads plus the YAML; one after the other it is their sum).
        # The gateway keeps at most read_workers requests in flight (transport.py).
        # SPEC 1: refuse (exit 2, nothing written) when an internal project is public.
        checked = pool.submit(require_internal_projects, gateway, projects)
        read_history = pool.submit(
            lambda: load_history(
                gateway,
                checked.result()["accounts"],
                today,
                window_start(today, settings.rules.history),
            )
        )
        listings = (
            {
                # Open issues only: the closed ones are known from what the cards
                # record (services/triage/past_issues.py), so the reads stay flat as
                # the portfolio ages.
                "accounts": pool.submit(gateway.issues, projects.accounts, state="opened"),
                "triage": pool.submit(gateway.issues, projects.triage, state="opened"),
                "escalations": pool.submit(gateway.issues, projects.escalations, state="opened"),
            }
            if only is None
            else {}
        )
        if only is None:
            # SPEC 4.1: one listing of the post-sales group's issues and one of its
            # closed milestones updated since the last run, which the tracking cards
            # record (services/triage/evidence.py).
            accounts_listing = listings["accounts"]

            def cards() -> list[dict]:
                # This shard's cards: its own last run (another shard may have run
                # later today and moved its cards' dates past this shard's).
                return [
                    issue
                    for slug, issue in markers.index_by_marker(
                        accounts_listing.result(), "tracking"
                    ).items()
                    if in_shard(slug, shard)
                ]

            # The cards indexed and their data read once for both listings; submitted
            # before them, so a worker waiting on it never waits on a task queued
            # behind its own.
            after = pool.submit(lambda: gl_evidence.listing_after(cards()))
            listings["evidence"] = pool.submit(
                lambda: gl_evidence.read_listing_after(gateway, settings, after.result())
            )
            listings["milestones"] = pool.submit(
                lambda: gl_evidence.read_milestones_after(gateway, settings, after.result())
            )
        try:
            registry = load_registry(
                settings.accounts_dir, [only] if only else (), cache=settings.cache_dir
            )
        except Exception:
            checked.result()  # a public internal project is told first, as it always was
            raise
        internal = checked.result()
        history = read_history.result()
        listed = {role: future.result() for role, future in listings.items()}
    return registry, internal, history, listed


def _portfolio_context(
    gateway: Gateway,
    settings: Settings,
    today: date,
    projects: Projects,
    registry: Registry,
    listed: dict[str, Any],
    history: History,
    users: UserIds | None,
    run: TriageRun,
    shard: tuple[int, int] | None,
) -> TriageContext:
    """The scheduled run's context: the bot's issues indexed by their markers, the
    tracking issues a person closed proven, and the stray markers noted."""
    account_issues = listed["accounts"]
    tracking = markers.index_by_marker(account_issues, "tracking")
    past = PastIssues(gateway, projects.accounts, account_issues, tracking)
    for account in registry.accounts:
        if account.slug not in tracking and in_shard(account.slug, shard):
            # Closed by a person, or none yet: proven before one is created.
            segment = settings.taxonomy.name(f"segment::{account.segment}")
            found = past.tracking(account.slug, segment)
            if found is not None:
                tracking[account.slug] = found
    ctx = TriageContext(
        gateway=gateway,
        settings=settings,
        today=today,
        tracking=tracking,
        reminders=ProvenIndex(markers.index_by_marker(account_issues, REMINDER), past.reminder),
        triage=markers.index_by_marker(listed["triage"], TRIAGE),
        escalations=markers.index_by_marker(listed["escalations"], ESCALATION),
        users=users or UserIds(),
        milestones=MilestoneIds(projects.triage),
        history=history.grouped(),
        will_churn=ProvenIndex(  # type: ignore[arg-type]
            markers.index_by_marker(account_issues, WILL_CHURN),
            lambda slug: past.checklist(slug, WILL_CHURN),
        ),
    )
    ctx.past = past
    # Markers the bot does not take as its own (a person's issue carrying a copied
    # marker, another account's marker pasted into a card): ignored, and said so.
    for project, items, kinds in (
        (projects.accounts, account_issues, ("tracking", REMINDER, WILL_CHURN)),
        (projects.triage, listed["triage"], (TRIAGE,)),
        (projects.escalations, listed["escalations"], (ESCALATION,)),
    ):
        for kind in kinds:
            run.plan.notes.extend(f"{project}{line}" for line in markers.strays(items, kind))
    run.plan.notes.extend(_gone_from_registry(projects, registry, tracking, shard))
    return ctx


def _gone_from_registry(
    projects: Projects,
    registry: Registry,
    tracking: Mapping[str, Mapping[str, Any]],
    shard: tuple[int, int] | None,
) -> list[str]:
    """A warning per open tracking issue whose account has no registry file any more
    (removed, or renamed): nothing plans it, so it and the account's open reminders stay
    open, in every daily listing, until a person closes them. Said by the shard the
    slug falls in, so a sharded run says it once."""
    known = {a.slug for a in registry.accounts} | {Path(p.file).stem for p in registry.problems}
    return [
        f"warning: {slug}: no registry file ({slug}.yml) any more, but its tracking "
        f"issue {projects.accounts}#{issue['iid']} is open: the bot no longer updates it "
        f"and its open issues stay open (and listed every day); restore the file, or "
        f"close them (gl-csm disengage first when the customer is leaving)"
        for slug, issue in sorted(tracking.items())
        if slug not in known and in_shard(slug, shard) and issue.get("state") == "opened"
    ]


def _resolve_scoped_labels(
    ctx: TriageContext,
    run: TriageRun,
    projects: Projects,
    registry: Registry,
    shard: tuple[int, int] | None,
    only: str | None,
) -> None:
    """GitLab Free: two labels of one scope on a tracking issue; the last added wins."""
    for account in registry.accounts:
        issue = ctx.tracking.get(account.slug)
        if issue is not None and in_shard(account.slug, shard) and only in (None, account.slug):
            fixed = scoped_labels.resolve(
                run.plan,
                ctx.gateway,
                projects.accounts,
                issue,
                account.slug,
                f"tracking issue of {account.slug}",
                only=_people_scopes(issue, ctx.settings),
            )
            if fixed is not issue:
                ctx.tracking[account.slug] = fixed  # type: ignore[index]


def _assess_accounts(
    ctx: TriageContext, registry: Registry, listed: dict[str, Any]
) -> tuple[dict[str, Account], dict[str, Assessment]]:
    """Every account with GitLab's evidence applied, and its assessment."""
    settings, today = ctx.settings, ctx.today
    # SPEC 4.1: the assessment reads the account with GitLab's evidence applied (a
    # one-account reaction reads no listing: the evidence its card recorded).
    listed_issues = gl_evidence.by_project(listed.get("evidence") or [])
    closed = gl_evidence.milestones_by_project(
        listed.get("milestones") or [],
        settings.groups.post_sales if settings.groups else "",
    )
    applied: dict[str, Account] = {}
    assessments: dict[str, Assessment] = {}
    for account in registry.accounts:
        tracking_issue = ctx.tracking.get(account.slug)
        found = gl_evidence.gather(settings, account, tracking_issue, listed_issues, today, closed)
        ctx.evidence[account.slug] = found
        applied[account.slug] = found.applied.account
        signals, _ = signals_of(tracking_issue, settings)
        assessments[account.slug] = assess(found.applied.account, settings.rules, today, signals)
    return applied, assessments


def _plan_accounts(
    ctx: TriageContext,
    run: TriageRun,
    mine: list[Account],
    applied: dict[str, Account],
    assessments: dict[str, Assessment],
    only: str | None,
    progress: Any | None,
) -> None:
    """Plan each of this run's accounts; one account's failure never stops the others."""
    settings, today = ctx.settings, ctx.today
    if progress is not None:  # gl_csm.progress.Progress: the CLI's bar or CI lines
        progress.start("triage: planned", len(mine), "accounts")
    for account in mine:
        if progress is not None:
            progress.advance()
        local = Plan()
        target, assessment = applied[account.slug], assessments[account.slug]
        if only is None:
            # Planned before the account's triage: its card shows the project where the
            # promote moves it, and a refused transfer stops the account's other changes.
            moved_to = _promote_when_paid(ctx, run, target)
            if moved_to is not None:
                target = dataclasses.replace(target, project=moved_to)
                signals, _ = signals_of(ctx.tracking.get(account.slug), settings)
                assessment = assess(target, settings.rules, today, signals)
        try:
            row, run.history_rows[account.slug] = _plan_account(ctx, local, target, assessment)
        except Exception as exc:  # noqa: BLE001 - one account never stops the others
            message = failure_text(exc)
            run.plan.fail(account.slug, message)
            run.accounts[account.slug] = {"slug": account.slug, "failed": True, "error": message}
            continue
        # A one-account reaction keeps its read budget: the CSM only (whom its writes
        # assign anyway); the scheduled run checks the whole team.
        _check_team_first(ctx, local, account, ("csm",) if only else TEAM_ROLES)
        run.plan.extend(local)
        run.accounts[account.slug] = row
        if only is None:
            # A trigger label still on the account's issues: its webhook was missed.
            triggers.catch_up(ctx, run.plan, account.slug)


def _check_team_first(
    ctx: TriageContext, plan: Plan, account: Account, roles: tuple[str, ...]
) -> None:
    """A team username that is no GitLab user fails the account (exit 1, naming the
    account and the key), as onboard does: its issues would be unassigned and its people
    never told."""
    # Checked by the first issue the account's changes create: it is assigned (its
    # assignee looked up anyway) and mentions the team; an update of the card or a
    # label needs nobody, and costs no lookup.
    mine = [
        i
        for i, c in enumerate(plan.changes)
        if c.account == account.slug and c.action == "create-issue"
    ]
    if not mine:
        return
    first = plan.changes[mine[0]]
    team = {f"team.{role}": name for role in roles if (name := getattr(account.team, role))}
    where = account.source or "its registry file"

    def checked(gw: Gateway, results: Results) -> Any:
        missing = ctx.users.unknown(gw, team)
        if missing:
            names = ", ".join(f"{key} {team[key]!r}" for key in missing)
            raise GlCsmError(
                f"account {account.slug}: {names} is not a GitLab user at {gw.url}; fix the "
                f"username in {where} (nothing was written for this account)"
            )
        return first.run(gw, results) if first.run else None

    plan.changes[mine[0]] = dataclasses.replace(first, run=checked)


def _one_account_context(
    gateway: Gateway,
    settings: Settings,
    today: date,
    registry: Any,
    slug: str,
    users: UserIds | None,
    tracking_iid: int | None,
) -> TriageContext:
    """One account (react) without reading the portfolio, and without GitLab's search
    (SPEC 7.1): the tracking issue through its hints, the account's other bot issues
    through the iids its card records; a key they do not hold is looked up in the full
    listing before anything is created (:mod:`gl_csm.services.lookup`)."""
    _, projects = settings.require_layout("triage")
    account = registry.by_slug().get(slug)
    tracking = (
        lookup.find_tracking(gateway, settings, account, iid=tracking_iid)
        if account is not None
        else None
    )
    iids = lookup.recorded_iids(tracking)
    # Reminders and the will-churn checklist are both in the accounts project: one read
    # of the recorded iids, one full listing at most (read only when a key is missing).
    account_issues = lookup.hinted_indexes(
        gateway, projects.accounts, [REMINDER, WILL_CHURN], iids["accounts"], state="all"
    )
    return TriageContext(
        gateway=gateway,
        settings=settings,
        today=today,
        tracking={slug: tracking} if tracking is not None else {},
        reminders=account_issues[REMINDER],
        triage=lookup.hinted_index(
            gateway, projects.triage, TRIAGE, iids["triage"], state="opened"
        ),
        escalations=lookup.hinted_index(
            gateway, projects.escalations, ESCALATION, iids["escalations"], state="opened"
        ),
        users=users or UserIds(),
        milestones=MilestoneIds(projects.triage),
        # Read in full only when a checklist could be created (lookup.checklist_of).
        will_churn=account_issues[WILL_CHURN],
    )


# ---------------------------------------------------------------- one account


def _link_or_pending(
    issue: Mapping[str, Any] | None, role_key: tuple[str, str], pending: list[tuple[str, str]]
) -> str | None:
    """The report's link to an open issue; one this run opens is linked after apply."""
    if issue is not None:
        return issue.get("web_url")
    return "(opened in this run)" if role_key in pending else None


def _warn_missing_region(
    ctx: TriageContext, plan: Plan, account: Account, a: Assessment, color: str | None
) -> None:
    """A warning when an account to triage has no region its people can be found by."""
    missing_region = region_problem(account, color, ctx.settings.people)
    if missing_region and (a.needs_triage or account.slug in ctx.triage):
        plan.notes.append(
            f"warning: {account.slug}: {missing_region}; fix `region` in "
            f"{account.source or 'its registry file'} or add the region under "
            f"people.regions in the config"
        )


def _account_row(
    account: Account,
    a: Assessment,
    sentiment: str | None,
    color: str | None,
    tracking: dict | None,
) -> dict[str, Any]:
    """The account's row for the report and the dashboard, before its issues are planned."""
    h = a.health
    return {
        "slug": account.slug,
        "name": account.name,
        "csm": account.team.csm,
        "segment": account.segment,
        "region": account.region,
        "digital": account.digital,
        "priority": a.priority.priority,
        "health": None if h is None else h.color,
        "score": score_of(a),
        "sentiment": sentiment,
        "color": color,
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


def _plan_account(
    ctx: TriageContext, plan: Plan, account: Account, a: Assessment
) -> tuple[dict[str, Any], HistoryRow]:
    """The account's report row and its history row (the row's fields the history
    reads are all set before the history row is built)."""
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
    _warn_missing_region(ctx, plan, account, a, notify.color)

    row = _account_row(account, a, sentiment, notify.color, tracking)
    pending: list[tuple[str, str]] = []
    # A new tracking issue is created first (below), so the issues this
    # run opens link it; their changes are collected here and follow it.
    outer, plan = plan, (plan if tracking is not None else Plan())
    # SPEC 4: lifecycle::will-churn only once the checklist is done (moves/will_churn.py).
    a, churn = will_churn.in_triage(
        plan,
        gw,
        settings,
        account,
        a,
        tracking=tracking,
        # A full run read every issue; one account looks past its hints only when a
        # checklist could be created (never a duplicate, no portfolio read otherwise).
        checklist=lookup.get_known(
            ctx.will_churn,
            slug,
            authoritative=will_churn.requested(account, tracking, settings)
            or bool(previous.get(CHECKLIST_KEY)),
        ),
        users=ctx.users,
    )
    row["lifecycle"] = a.lifecycle
    if churn is not None and churn.checklist is None:
        pending.append(("will-churn", f"{WILL_CHURN}:{slug}"))  # the card links it

    # 1. reminder issues in the accounts project (SPEC 5.2); the closed ones still due
    # are recorded in the card, so a rerun reads none of them (past_issues.py)
    closed_due: list[str] = []
    reminders_open = plan_reminder_issues(ctx, plan, account, a, pending, closed_due)

    # 2. triage issue (SPEC 5.0, 5.1)
    triage_issue, at_risk_due = plan_triage_issue(ctx, plan, account, a, notify, tracking, pending)
    row["triage"] = _link_or_pending(triage_issue, ("triage", f"{TRIAGE}:{slug}"), pending)
    row["at_risk_due"] = None if at_risk_due is None else at_risk_due.isoformat()
    # The measures, for the dashboard's account page.
    row["measures"] = [
        {"name": m.name, "color": m.color, "value": "-" if m.value is None else str(m.value)}
        for m in (h.measures if h else ())
    ]
    # Since when the account is in triage (the report's "days in triage").
    since_day = opened_day(triage_issue, today) if triage_issue else None
    row["triage_since"] = (
        since_day.isoformat() if since_day else (today.isoformat() if row["triage"] else None)
    )

    # 3. escalation issue (SPEC 5.0)
    escalation_issue, severity = plan_escalation(
        ctx, plan, account, a, escalation_label, tracking, triage_issue, pending
    )
    # None when closed in this run (the report lists open escalations only).
    row["escalation"] = _link_or_pending(
        escalation_issue, ("escalation", f"{ESCALATION}:{slug}"), pending
    )
    row["escalation_severity"] = severity

    # 4. notes on the tracking issue (stale health, end of onboarding), recorded in the card
    due_notes, data = tracking_notes(ctx, account, a, previous, notify.color, sentiment, since)
    history_row = row_of(today, slug, row)
    data = {
        **data,
        **history_data(ctx.history.get(slug, []), history_row, today, settings.rules.history),
    }
    # What the customer reads follows the registry's team (collaboration/team_sync.py):
    # no read unless the team differs from the one the card recorded.
    data.update(team_sync.in_triage(plan, gw, settings, account, today, previous))

    # SPEC 4.1 evidence (a note to the CSM per customer issue waiting for the team) and
    # SPEC 5 Promote (a paid account still in pre-sales): recorded in the card.
    found = _plan_evidence(ctx, plan, account, tracking, row, data)
    data.update(gl_evidence.plan_promote_ask(settings, plan, account, tracking, previous))
    data.update(past_record(ctx, account, previous, closed_due, churn))

    # What the bot needs from the notes of its open triage / escalation issues, so a
    # rerun reads none of them while nothing changed (bot_issues.py).
    records = note_records(ctx, slug, pending)
    if records:
        data[NOTES_KEY] = records

    # 5. the tracking issue itself: labels and card, linking what the run opened
    extra = CardExtra(
        triage=triage_issue,
        escalation=escalation_issue,
        reminders=tuple(reminders_open),
        next_dates=next_dates(ctx, account, a, at_risk_due, reminders_open),
        data=data,
        pending=tuple(pending),
        will_churn=churn,
        evidence=() if found is None else found.card_lines(),
        time_to_value=() if found is None else found.time_to_value(),
        # On a new issue the notes go in its create: one request per object.
        below="" if tracking is not None else notes_text(account, due_notes),
    )
    _plan_tracking(ctx, outer, plan, account, a, tracking, due_notes, extra)
    return row, history_row


def _plan_evidence(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    tracking: dict | None,
    row: dict[str, Any],
    data: dict[str, Any],
) -> Any:
    """SPEC 4.1 evidence: a note to the CSM per customer issue waiting for the team,
    recorded in the card ``data``; the time to value goes in the ``row``. Returns the
    evidence found (None when the run read none for the account)."""
    found = ctx.evidence.get(account.slug)
    if found is not None:
        found = gl_evidence.plan_waiting_notes(
            ctx.gateway, ctx.settings, plan, account, tracking, found, ctx.today
        )
        recorded = found.data(ctx.today)
        if recorded:
            data[gl_evidence.KEY] = recorded
        row["time_to_value"] = {t.kpi: t.days for t in found.time_to_value()}
    return found


def _plan_tracking(
    ctx: TriageContext,
    outer: Plan,
    plan: Plan,
    account: Account,
    a: Assessment,
    tracking: dict | None,
    due_notes: list[DueNote],
    extra: CardExtra,
) -> None:
    """The tracking issue's notes, labels and card. A new tracking issue is created
    first, then the account's other changes (collected in ``plan``), then the card
    links to what they made."""
    # A note on an existing issue goes first, so the card records it only once it is
    # posted.
    if tracking is not None:
        plan_tracking_notes(ctx, plan, account, tracking, due_notes)
    plan_tracking_issue(
        outer,
        ctx.gateway,
        ctx.settings,
        account,
        ctx.today,
        existing=tracking,
        project=None,
        assessment=a,
        extra=extra,
        users=ctx.users,
    )
    if tracking is None:
        outer.extend(plan)
        if extra.pending:
            plan_card_links(outer, ctx.settings, account, a, extra)
