"""Cadence reminder issues in the accounts project (SPEC 5.2): renewal reviews and
EBRs per account, the quarterly priority review per CSM (handbook 001), and the
card's next due dates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from gl_csm import markers
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.cadence import fiscal_quarter
from gl_csm.domain.reminders import (
    Due,
    ebr_reminder,
    next_ebr,
    next_renewal_review,
    priority_review,
    renewal_reviews,
)
from gl_csm.plan import Plan
from gl_csm.services.triage import generated
from gl_csm.services.triage.bot_issues import plan_bot_issue
from gl_csm.services.triage.context import REMINDER, TriageContext
from gl_csm.services.triage.shards import in_shard
from gl_csm.services.triage.tracking import money, tracking_link
from gl_csm.templates import Trusted, mention, safe_title


def not_managed_on_its_own(account: Account) -> bool:
    """handbook 001: priority 3 is "a child account that is not actively managed outside
    of its parent account": its EBRs and renewal reviews are the parent's CSM's, held
    with the parent's, so the child gets no reminder issue of its own."""
    return bool(account.parent) and not account.managed


def _key_name(username: str) -> str:
    """A username as a marker key part (keys allow [a-z0-9._/:-])."""
    return username.lower().replace("_", ".")


def _reminder_token(slug: str, due: Due) -> tuple[str, str]:
    return REMINDER, f"{slug}:{due.key}"


def plan_reminder_issues(
    ctx: TriageContext, plan: Plan, account: Account, a: Assessment, pending: list[tuple[str, str]]
) -> list[dict]:
    """Renewal reviews and EBR issues (SPEC 5.2), each created once; returns the open
    reminder issues of the account (for the card)."""
    slug = account.slug
    open_ones = [issue for issue in ctx.reminders_of(slug) if issue.get("state") == "opened"]
    csm = account.team.csm
    if account.pre_sales or csm is None or account.lifecycle == "churned":
        return open_ones
    if not_managed_on_its_own(account):
        return open_ones
    rules, today = ctx.settings.rules, ctx.today
    dues: list[tuple[Due, str, str, dict[str, Any]]] = []
    common = {
        "account": account,
        "arr": money(account.arr),
        "csm": mention(csm),
        "ae": mention(account.team.ae) or "-",
        "sa": mention(account.team.sa) or "-",
        **generated.markers_context(),
    }
    _plan_refresh(ctx, plan, slug, open_ones, common)
    for due in renewal_reviews(account.renewal_date, today, rules):
        months = due.key.rsplit(":", 1)[1]
        dues.append(
            (
                due,
                "reminder_renewal_review.md.j2",
                f"Renewal review ({months} months out): {account.name}",
                # One date, the issue's (a review found late is due today, not in the past).
                {
                    **common,
                    "months": months,
                    "renewal": account.renewal_date,
                    "due": max(due.due, today),
                },
            )
        )
    ebr = ebr_reminder(account.customer_since, today, rules)
    if ebr is not None:
        dues.append(
            (
                ebr,
                "reminder_ebr.md.j2",
                f"Executive Business Review: {account.name}",
                {**common, "due": max(ebr.due, today)},
            )
        )
    for due, template, title, context in dues:
        kind, key = _reminder_token(slug, due)
        if key in ctx.reminders:
            continue
        _plan_reminder_issue(
            ctx, plan, kind, key, title, template, context, csm, max(due.due, today), slug, slug
        )
        pending.append(("reminder", f"{kind}:{key}"))
    return open_ones


def _plan_refresh(
    ctx: TriageContext, plan: Plan, slug: str, open_ones: list[dict], common: dict[str, Any]
) -> None:
    """Issue 9 item 1: the bot's part of the account's open renewal-review and EBR
    issues follows the account (ARR, team, tracking link); their date is the one of the
    issue's key and due date, ticked boxes and people's text are kept."""
    for issue in open_ones:
        keys = [k for kind, k in markers.markers_in(issue.get("description")) if kind == REMINDER]
        parts = keys[0].split(":") if keys else []
        due = issue.get("due_date")
        if len(parts) == 4 and parts[1] == "renewal-review" and due:
            template = "reminder_renewal_review.md.j2"
            extra: dict[str, Any] = {"months": parts[3], "renewal": parts[2], "due": due}
        elif len(parts) == 3 and parts[1] == "ebr" and due:
            template, extra = "reminder_ebr.md.j2", {"due": due}
        else:
            continue
        context = {
            "tracking_link": tracking_link(ctx.tracking.get(slug), slug, {}),
            **common,
            **extra,
        }
        _refresh_one(ctx, plan, issue, template, keys[0], context, slug)


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
        "bring the bot's part of the description up to date",
        lambda gw, _r: gw.update_issue(project, iid, description=description),
        account=account,
    )


def _plan_reminder_issue(
    ctx: TriageContext,
    plan: Plan,
    kind: str,
    key: str,
    title: str,
    template: str,
    context: Mapping[str, Any],
    csm: str,
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
        kind=kind,
        key=key,
        title=title,
        body=lambda results: generated.render_stamped(
            template,
            {
                "marker": Trusted(markers.marker(kind, key)),
                # Listed, or created earlier in this run (issue 9 item 2). A CSM's
                # priority review belongs to no account: no link (and the same inputs
                # as its refresh, so a rerun knows it up to date: generated.py).
                **({"tracking_link": tracking_link(tracking, slug, results)} if slug else {}),
                **context,
            },
        ),
        fields={"due_date": due.isoformat()},
        assignee=csm,
        target=f"{project} reminder",
        detail=f"{title!r} due {due}, assigned to {csm}",
        account=account,
    )


def plan_priority_reviews(
    ctx: TriageContext,
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
        context = {
            "quarter": quarter,
            "csm_name": csm,
            "csm": mention(csm),
            "book": rows,
            **generated.markers_context(),
        }
        existing = ctx.reminders.get(key)
        if existing is not None:
            # Issue 9 item 1: an open review's book follows the current priorities.
            if existing.get("state") == "opened":
                _refresh_one(
                    ctx,
                    plan,
                    existing,
                    "reminder_priority_review.md.j2",
                    key,
                    context,
                    f"csm:{csm}",
                )
            continue
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


def next_dates(
    ctx: TriageContext, account: Account, a: Assessment, at_risk_due: date | None
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
    if not_managed_on_its_own(account):
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
