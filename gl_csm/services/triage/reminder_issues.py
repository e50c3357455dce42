"""Reminder issues in the accounts project (SPEC 5.2): every kind of `rules.reminders`
(renewal reviews, EBRs, the quarterly priority review per CSM of handbook 001, and any
kind a config adds) through one engine that creates, refreshes, re-dates and closes
them, and gives the card each kind's next date.

The dates are the domain's (:mod:`gl_csm.domain.reminders`); here they become issues,
each found by its hidden marker ``SLUG:KEY`` (``csm.USER:KEY`` for a kind per CSM).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from gl_csm import markers
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.cadence import fiscal_quarter
from gl_csm.domain.reminders import (
    Due,
    anchor_of,
    applies_to,
    due_now,
    next_date,
    parse_key,
    stage_date,
    stage_of,
    stale_health_withheld,
    still_current,
)
from gl_csm.domain.rules import ReminderKind, Rules
from gl_csm.errors import GlCsmError
from gl_csm.plan import Plan
from gl_csm.services.lookup import get_known
from gl_csm.services.tracking import money, tracking_link
from gl_csm.services.triage import generated
from gl_csm.services.triage.bot_issues import plan_bot_issue
from gl_csm.services.triage.context import REMINDER, TriageContext
from gl_csm.services.triage.ebr_brief import EBR, executive_brief
from gl_csm.services.triage.shards import in_shard
from gl_csm.templates import Trusted, mention, safe_title


def not_managed_on_its_own(account: Account) -> bool:
    """handbook 001: priority 3 is "a child account that is not actively managed outside
    of its parent account": its EBRs and renewal reviews are the parent's CSM's, held
    with the parent's, so the child gets no reminder issue of its own."""
    return bool(account.parent) and not account.managed


def issue_kinds(rules: Rules, per: str) -> tuple[ReminderKind, ...]:
    """The kinds that are issues, one per account or one per CSM."""
    return tuple(k for k in rules.reminders if k.post == "issue" and k.per == per)


def _key_name(username: str) -> str:
    """A username as a marker key part (keys allow [a-z0-9._/:-])."""
    return username.lower().replace("_", ".")


def _gets_reminders(account: Account) -> bool:
    """A customer with a CSM, not churned, managed on its own."""
    return not (
        account.pre_sales
        or account.team.csm is None
        or account.lifecycle == "churned"
        or not_managed_on_its_own(account)
    )


def _kind_of(rules: Rules, key: str) -> ReminderKind | None:
    """The kind of an account reminder's key ``SLUG:NAME:...``."""
    parts = key.split(":")
    if len(parts) < 3:
        return None
    for kind in issue_kinds(rules, "account"):
        if kind.name == parts[1]:
            return kind
    return None


def _title(kind: ReminderKind, due: Due, who: str, rules: Rules) -> str:
    if kind.anchor == "fiscal_quarter":
        quarter = fiscal_quarter(due.due, rules.fiscal_year_start_month).name
        return f"{kind.title} {quarter}: {who}"
    if len(kind.months) > 1 and not kind.every_months:
        when = "out" if due.stage < 0 else "in"
        return f"{kind.title} ({abs(due.stage)} months {when}): {who}"
    return f"{kind.title}: {who}"


#: The anchors as the generic template names them.
_ANCHOR_WORDS = {
    "customer_since": "the day it became a customer",
    "renewal_date": "its renewal date",
    "onboarding_end": "the end of its onboarding",
    "fiscal_quarter": "the start of the fiscal quarter",
}


def _context(
    kind: ReminderKind,
    account: Account,
    anchor: date | str,
    stage: int,
    due: date | str,
    late: bool = False,
    brief: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What an account reminder's template is rendered from: the account and its team,
    the kind, the anchor date (also under its own name: ``renewal_date``), the stage, the
    one date the issue is due, and whether the stage's own date had passed when the bot
    made it (so it is due the day it was made, and stands for the stages past)."""
    team = account.team
    return {
        "account": account,
        "kind": kind.title,
        "arr": money(account.arr),
        "csm": mention(team.csm),
        "ae": mention(team.ae) or "-",
        "sa": mention(team.sa) or "-",
        "pse": mention(team.pse) or "-",
        "assignee": mention(getattr(team, kind.assignee)) or "-",
        "mentions": [m for m in (mention(getattr(team, r)) for r in kind.mentions) if m],
        "anchor": anchor,
        "anchor_name": _ANCHOR_WORDS[kind.anchor],
        kind.anchor: anchor,
        "months": abs(stage),
        "due": due,
        "late": late,
        # A late stage stands for the earlier stages only when the kind has any: the
        # first stage of the renewal reviews (5 months out) covers none.
        "covers_earlier": late and any(m < stage for m in kind.months),
        # The executive brief (handbook 001) of an EBR: ebr_brief.py. Only the EBR's
        # inputs hold it, so the other kinds' issues are not rewritten for it.
        **({"brief": brief} if kind.name == EBR else {}),
        **generated.markers_context(),
    }


def plan_reminder_issues(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    a: Assessment,
    pending: list[tuple[str, str]],
    closed_due: list[str] | None = None,
) -> list[dict]:
    """Each reminder kind per account: its stages due now created once, the open ones
    refreshed (ARR, team, tracking link), re-dated or closed when their anchor moved.
    Returns the account's open reminder issues (for the card); ``closed_due`` gets the
    keys of the stages due now whose issue is closed (the card records them)."""
    slug = account.slug
    open_ones = [issue for issue in ctx.reminders_of(slug) if issue.get("state") == "opened"]
    if not _gets_reminders(account):
        return open_ones
    rules, today = ctx.settings.rules, ctx.today
    briefs: list[dict[str, Any]] = []

    def brief(kind: ReminderKind) -> Mapping[str, Any] | None:
        # Only an EBR's text holds the brief (_context): made for the account's first
        # EBR issue, not for every account.
        if kind.name != EBR:
            return None
        if not briefs:
            briefs.append(executive_brief(ctx, account, a))
        return briefs[0]

    moved: dict[str, list[tuple[dict, str]]] = {}
    for issue in open_ones:
        key = _reminder_key(issue)
        kind = _kind_of(rules, key or "")
        if key is None or kind is None:
            continue
        own = key.split(":", 1)[1]
        if still_current(kind, account, own, today, rules):
            _refresh(ctx, plan, account, kind, issue, key, brief(kind))
        else:
            moved.setdefault(kind.name, []).append((issue, own))
    for kind in issue_kinds(rules, "account"):
        if not applies_to(kind, account):
            continue
        targets = []
        for d in due_now(kind, account, today, rules):
            found = ctx.reminders.get(f"{slug}:{d.key}")
            if found is None:
                targets.append(d)
            elif found.get("state") != "opened" and closed_due is not None:
                closed_due.append(f"{slug}:{d.key}")
        for issue, old in moved.get(kind.name, []):
            stage = stage_of(kind, old)
            target = next((d for d in targets if stage in (None, d.stage)), None)
            at = open_ones.index(issue)
            if target is None:
                _plan_close(ctx, plan, account, kind, issue, old)
                del open_ones[at]
                continue
            targets.remove(target)
            # The card lists the issue as it is after this run (its new date and title).
            open_ones[at] = _plan_redate(ctx, plan, account, kind, issue, target, brief(kind))
        for due in targets:
            _plan_create(ctx, plan, account, kind, due, pending, brief(kind))
    return open_ones


def _reminder_key(issue: Mapping[str, Any]) -> str | None:
    keys = [k for kind, k in markers.markers_in(issue.get("description")) if kind == REMINDER]
    return keys[0] if keys else None


def _dated(today: date, due: Due) -> date:
    """One date, the issue's: a stage found late is due today, not in the past."""
    return max(due.due, today)


def _plan_create(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    kind: ReminderKind,
    due: Due,
    pending: list[tuple[str, str]],
    brief: Mapping[str, Any] | None = None,
) -> None:
    slug, today = account.slug, ctx.today
    key = f"{slug}:{due.key}"
    assert due.anchor is not None
    when = _dated(today, due)
    context = _context(kind, account, due.anchor, due.stage, when, due.due < when, brief)
    _plan_reminder_issue(
        ctx,
        plan,
        key,
        _title(kind, due, account.name, ctx.settings.rules),
        kind.template,
        context,
        getattr(account.team, kind.assignee),
        _dated(today, due),
        slug,
        slug,
    )
    pending.append(("reminder", f"{REMINDER}:{key}"))


def _refresh(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    kind: ReminderKind,
    issue: dict,
    key: str,
    brief: Mapping[str, Any] | None = None,
) -> None:
    """The bot's part of an open reminder follows the account (ARR, team, tracking link);
    its date is the one of the issue's key and due date, ticked boxes and people's text
    are kept."""
    parsed = parse_key(kind, key.split(":", 1)[1])
    due = issue.get("due_date")
    if parsed is None or not due:
        return
    stage = stage_of(kind, key.split(":", 1)[1]) or 0
    if parsed[1] is not None:
        anchor, own = parsed[0], stage_date(kind, parsed[0], stage)
    else:
        anchor, own = _anchor_of_due(kind, account, ctx), parsed[0]
    context = {
        "tracking_link": tracking_link(ctx.tracking.get(account.slug), account.slug, {}),
        **_context(
            kind, account, anchor.isoformat(), stage, due, own.isoformat() < str(due), brief
        ),
    }
    _refresh_one(ctx, plan, issue, kind.template, key, context, account.slug)


def _anchor_of_due(kind: ReminderKind, account: Account, ctx: TriageContext) -> date:
    anchor = anchor_of(kind, account, ctx.today, ctx.settings.rules)
    assert anchor is not None  # still_current holds only for an account with its anchor
    return anchor


def _plan_redate(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    kind: ReminderKind,
    issue: dict,
    due: Due,
    brief: Mapping[str, Any] | None = None,
) -> dict:
    """SPEC 5.2: "when the renewal date moves, the open reviews are re-dated": the issue
    takes the new stage's marker, date, title and text (one update; people's text below
    the bot's part and ticked boxes are kept)."""
    slug, today = account.slug, ctx.today
    old_key = _reminder_key(issue) or ""
    key = f"{slug}:{due.key}"
    when = _dated(today, due)
    assert due.anchor is not None
    context = {
        "marker": Trusted(markers.marker(REMINDER, key)),
        "tracking_link": tracking_link(ctx.tracking.get(slug), slug, {}),
        **_context(
            kind,
            account,
            due.anchor.isoformat(),
            due.stage,
            when.isoformat(),
            due.due < when,
            brief,
        ),
    }
    text = (issue.get("description") or "").replace(
        markers.marker(REMINDER, old_key), markers.marker(REMINDER, key), 1
    )
    description = generated.refresh_template(text, kind.template, context) or text
    title = safe_title(_title(kind, due, account.name, ctx.settings.rules))
    project, iid = ctx.projects.accounts, issue["iid"]
    plan.add(
        "update-issue",
        f"{project}#{iid} (reminder {old_key})",
        f"{kind.title.lower()} re-dated to {when} "
        f"(the {kind.anchor.replace('_', ' ')} is now {due.anchor})",
        lambda gw, _r: gw.update_issue(
            project, iid, description=description, title=title, due_date=when.isoformat()
        ),
        account=slug,
    )
    return {**issue, "description": description, "title": title, "due_date": when.isoformat()}


def _plan_close(
    ctx: TriageContext, plan: Plan, account: Account, kind: ReminderKind, issue: dict, old: str
) -> None:
    """An open reminder whose anchor moved and no stage of the new one takes it (the
    stage is gone, or already has its issue): closed with a note saying why."""
    slug = account.slug
    anchor = anchor_of(kind, account, ctx.today, ctx.settings.rules)
    parsed = parse_key(kind, old)
    field = kind.anchor.replace("_", " ")
    now = f"is now {anchor.isoformat()}" if anchor else "is no longer set"
    was = f" (was {parsed[0].isoformat()})" if parsed and parsed[1] is not None else ""
    body = (
        f"{markers.marker(REMINDER, f'{slug}:{old}:closed')}\n"
        f"The account's {field} {now}{was}: this {kind.title.lower()} (due "
        f"{issue.get('due_date') or '-'}) no longer applies, so the bot closes it. "
        "The account card lists the reminders that do."
    )
    token = markers.token(REMINDER, f"{slug}:{old}:closed")
    project, iid = ctx.projects.accounts, issue["iid"]

    def close(gw: Any, _r: Any) -> Any:
        gw.create_note(project, iid, body, token)
        return gw.update_issue(project, iid, state_event="close")

    plan.add(
        "close-issue",
        f"{project}#{iid} (reminder {slug}:{old})",
        f"{kind.title.lower()} no longer applies: the {field} {now}",
        close,
        account=slug,
    )


def _refresh_one(
    ctx: TriageContext,
    plan: Plan,
    issue: dict,
    template: str,
    key: str,
    context: dict[str, Any],
    account: str,
) -> None:
    """One reminder issue's bot part re-rendered; an update only when it changed."""
    project = ctx.projects.accounts
    description = generated.refresh_template(
        issue.get("description"),
        template,
        {"marker": Trusted(markers.marker(REMINDER, key)), **context},
    )
    if description is None:
        return
    iid = issue["iid"]
    plan.add(
        "update-issue",
        f"{project}#{iid} (reminder {key})",
        generated.why(
            "bring the bot's part of the description up to date",
            issue.get("description"),
            description,
        ),
        lambda gw, _r: gw.update_issue(project, iid, description=description),
        account=account,
    )


def _plan_reminder_issue(
    ctx: TriageContext,
    plan: Plan,
    key: str,
    title: str,
    template: str,
    context: Mapping[str, Any],
    assignee: str | None,
    due: date,
    account: str | None,
    slug: str | None = None,
) -> None:
    project = ctx.projects.accounts
    tracking = ctx.tracking.get(slug) if slug else None
    title = safe_title(title)
    plan_bot_issue(
        ctx,
        plan,
        project=project,
        kind=REMINDER,
        key=key,
        title=title,
        body=lambda results: generated.render_stamped(
            template,
            {
                "marker": Trusted(markers.marker(REMINDER, key)),
                # Listed, or created earlier in this run. A CSM's priority review
                # belongs to no account: no link (and the same inputs as its refresh, so
                # a rerun knows it up to date: generated.py).
                **({"tracking_link": tracking_link(tracking, slug, results)} if slug else {}),
                **context,
            },
        ),
        fields={"due_date": due.isoformat()},
        assignee=assignee,
        target=f"{project} reminder",
        detail=f"{title!r} due {due}, assigned to {assignee}",
        account=account,
    )


def _csm_key(csm: str, due: Due) -> str:
    return f"csm.{_key_name(csm)}:{due.key}"


def plan_priority_reviews(
    ctx: TriageContext,
    plan: Plan,
    accounts: Iterable[Account],
    assessments: Mapping[str, Assessment],
    shard: tuple[int, int] | None,
) -> None:
    """The kinds per CSM (handbook 001: the quarterly priority review), one issue per CSM
    listing their book. Each CSM belongs to one shard (crc32 of the username)."""
    rules, today = ctx.settings.rules, ctx.today
    accounts = list(accounts)
    for kind in issue_kinds(rules, "csm"):
        books: dict[str, list[Assessment]] = {}
        for account in accounts:
            a = assessments[account.slug]
            if account.team.csm and a.priority.priority is not None and applies_to(kind, account):
                books.setdefault(account.team.csm, []).append(a)
        for due in due_now(kind, None, today, rules):
            for csm, book in sorted(books.items()):
                if in_shard(f"csm:{csm}", shard):
                    _plan_csm_review(ctx, plan, kind, due, csm, book)


def _plan_csm_review(
    ctx: TriageContext,
    plan: Plan,
    kind: ReminderKind,
    due: Due,
    csm: str,
    book: list[Assessment],
) -> None:
    key = _csm_key(csm, due)
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
    quarter = fiscal_quarter(due.due, ctx.settings.rules.fiscal_year_start_month).name
    context = {
        "quarter": quarter,
        "csm_name": csm,
        "csm": mention(csm),
        "book": rows,
        **generated.markers_context(),
    }
    existing = ctx.reminders.get(key)
    if existing is not None:
        # An open review's book follows the current priorities.
        if existing.get("state") == "opened":
            _refresh_one(ctx, plan, existing, kind.template, key, context, f"csm:{csm}")
        return
    _plan_reminder_issue(
        ctx,
        plan,
        key,
        _title(kind, due, csm, ctx.settings.rules),
        kind.template,
        context,
        csm,
        _dated(ctx.today, due),
        f"csm:{csm}",
    )
    # A CSM who is no GitLab user (a typo in team.csm): the review is not made
    # unassigned; the run names the username (its accounts fail for the same reason).
    create = plan.changes[-1]
    books = ", ".join(sorted(a.account.slug for a in book))

    def checked(gw: Any, results: Any) -> Any:
        if ctx.users.unknown(gw, {"team.csm": csm}):
            raise GlCsmError(
                f"team.csm {csm!r} (accounts {books}) is not a GitLab user at {gw.url}; "
                f"the {kind.title.lower()} was not created"
            )
        return create.run(gw, results) if create.run else None

    plan.changes[-1] = dataclasses.replace(create, run=checked)


def _overdue_since(issues: Iterable[Mapping[str, Any]], today: date) -> str | None:
    """The earliest due date of open issues already past, or None."""
    past = sorted(
        str(i["due_date"]) for i in issues if i.get("due_date") and str(i["due_date"]) < str(today)
    )
    return past[0] if past else None


def overdue(when: date | str) -> str:
    """A date already past, as the card says it: the date, so the card does not change
    every day while it stays overdue."""
    return f"overdue since {when if isinstance(when, str) else when.isoformat()}"


def next_dates(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    at_risk_due: date | None,
    reminders: Iterable[Mapping[str, Any]] = (),
) -> tuple[tuple[str, str], ...]:
    """The card's "next dates" (SPEC 5.2 cadences): the renewal, the next at-risk update,
    why no stale-health note comes (a lost customer), and each reminder kind with a card
    label: overdue since the due date of its oldest open issue past due, else its next
    date."""
    rules, today = ctx.settings.rules, ctx.today
    out: list[tuple[str, str]] = []
    if account.renewal_date:
        out.append(("Renewal", account.renewal_date.isoformat()))
    if at_risk_due is not None:
        shown = overdue(at_risk_due) if at_risk_due < today else at_risk_due.isoformat()
        out.append(("Next at-risk update", shown))
    withheld = stale_health_withheld(a.lifecycle)
    if withheld is not None:
        out.append(("Stale-health notes", withheld))
    if not _gets_reminders(account):
        return tuple(out)
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for issue in reminders:
        key = _reminder_key(issue) or ""
        kind = _kind_of(rules, key)
        if kind is not None and still_current(kind, account, key.split(":", 1)[1], today, rules):
            by_kind.setdefault(kind.name, []).append(issue)
    for kind in rules.reminders:
        if not kind.card or not applies_to(kind, account):
            continue
        if kind.per == "csm":
            if a.priority.priority is None:
                continue
            late = _csm_overdue(ctx, kind, account.team.csm or "")
        else:
            late = _overdue_since(by_kind.get(kind.name, ()), today)
        if late:
            out.append((kind.card, overdue(late)))
            continue
        when = next_date(kind, account, today, rules)
        if when is not None:
            out.append((kind.card, when.isoformat()))
    return tuple(out)


def _csm_overdue(ctx: TriageContext, kind: ReminderKind, csm: str) -> str | None:
    """The CSM's review of this quarter, still open after its due date (known to the
    run: a single-account run reads no other issue for it and says overdue only when
    its due date passed without it being known done)."""
    rules, today = ctx.settings.rules, ctx.today
    for due in due_now(kind, None, today, rules):
        if due.due >= today:
            continue
        issue = get_known(ctx.reminders, _csm_key(csm, due), authoritative=False)
        if issue is None or issue.get("state") == "opened":
            return due.due.isoformat()
    return None


def past_record(
    ctx: TriageContext,
    account: Account,
    previous: Mapping[str, Any],
    closed_due: list[str],
    churn: Any,
) -> dict[str, Any]:
    """What the account's card records so the daily run never pages the accounts
    project's past (services/triage/past_issues.py): the closed reminders still due
    (and, on the card of the first account of a CSM's book, the CSM's closed review),
    whether it has a will-churn checklist, and what this run's proofs found."""
    from gl_csm.services.triage.past_issues import CHECKLIST_KEY, RECORD_KEY, SEEN_KEY

    keys = list(closed_due)
    csm = account.team.csm
    due = [
        _csm_key(csm, d)
        for kind in issue_kinds(ctx.settings.rules, "csm")
        if csm and applies_to(kind, account)
        for d in due_now(kind, None, ctx.today, ctx.settings.rules)
    ]
    past = ctx.past
    if past is None:
        # One account: what the card recorded of the CSM's review, while still due.
        old = previous.get(RECORD_KEY)
        keys += [k for k in (old if isinstance(old, list) else []) if k in due]
    elif csm and past.recorders.get(csm) == account.slug:
        for key in due:
            found = ctx.reminders.get(key)
            if found is not None and found.get("state") != "opened":
                keys.append(key)
    out: dict[str, Any] = {}
    if keys:
        out[RECORD_KEY] = sorted(set(keys))
    if churn is not None:
        out[CHECKLIST_KEY] = True
    proven = past.card_data(account.slug) if past is not None else {}
    seen = proven.pop(SEEN_KEY, None) or previous.get(SEEN_KEY)
    if isinstance(seen, str):
        out[SEEN_KEY] = seen
    out.update(proven)
    return out
