"""The confidential escalation issue of one account (SPEC 5.0): open it when red and
requested, remind by severity, ask the closure questions, close on
``escalation::resolved``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gl_csm import markers
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.reminders import escalation_update, escalation_update_days
from gl_csm.plan import Plan, Results
from gl_csm.services.triage import generated, scoped_labels
from gl_csm.services.triage.bot_issues import OpenIssue, plan_bot_issue
from gl_csm.services.triage.context import (
    ESCALATION,
    ESCALATION_NOTE,
    TRIAGE,
    TriageContext,
    drivers,
    opened_day,
)
from gl_csm.services.triage.tracking import issue_link, money, tracking_link
from gl_csm.templates import Trusted, mention, safe_title


def plan_escalation(
    ctx: TriageContext,
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
        return _plan_open_escalation(
            ctx, plan, account, a, issue, red, triage_link, escalation_label, tracking
        )
    if not (red and (account.risk.escalation_requested or escalation_label)):
        return None, None
    return None, _plan_new_escalation(
        ctx, plan, account, a, escalation_label, tracking, triage_link, pending
    )


def _context(
    account: Account, a: Assessment, severity: str, escalation_label: bool
) -> dict[str, Any]:
    """What escalation_issue.md.j2 shows from the account's current data (also when the
    bot rewrites its part of an open issue, issue 9 item 1)."""
    by = " and ".join(
        p
        for p, on in (
            ("risk.escalation_requested in the registry", account.risk.escalation_requested),
            ("the escalation::requested label on the tracking issue", escalation_label),
        )
        if on
    )
    h = a.health
    return {
        "marker": Trusted(markers.marker(ESCALATION, account.slug)),
        **generated.markers_context(),
        "account": account,
        "severity": severity,
        "color": h.color if h else "unknown",
        "csm": account.team.csm or "-",
        "arr": money(account.arr),
        "requested_by": by,
        "drivers": drivers(a),
        "risk_types": ", ".join(account.risk.types),
        "risk_reasons": ", ".join(account.risk.reasons),
        "risk_impacts": ", ".join(account.risk.impacts),
    }


def _plan_new_escalation(
    ctx: TriageContext,
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
    context = _context(account, a, severity, escalation_label)
    title = safe_title(f"Account escalation: {account.name}")

    def describe(results: Results) -> str:
        # Link the triage issue this run opened, when it did.
        made_triage = results.get(f"{TRIAGE}:{slug}")
        link = issue_link(made_triage) if made_triage else triage_link
        return generated.render_stamped(
            "escalation_issue.md.j2",
            {
                **context,
                "triage_link": link,
                # Listed, or created earlier in this run (issue 9 item 2).
                "tracking_link": tracking_link(tracking, slug, results),
            },
        )

    plan_bot_issue(
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
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    a: Assessment,
    issue: Mapping[str, Any],
    red: bool,
    triage_link: Any,
    escalation_label: bool = False,
    tracking: Mapping[str, Any] | None = None,
) -> tuple[dict | None, str | None]:
    """The open escalation issue: close it on ``escalation::resolved``, ask the closure
    questions once it is no longer red, else remind by severity."""
    settings, today = ctx.settings, ctx.today
    tax = settings.taxonomy
    project = ctx.projects.escalations
    slug = account.slug
    csm = account.team.csm
    h = a.health
    if not settings.premium:
        # GitLab Free keeps `escalation-severity::high` next to the `::low` a person
        # added (scoped_labels.py): the one added last is the severity, the other goes.
        # Only the people's scope: the bot's own (escalation::) is settled by closing.
        issue = scoped_labels.resolve(
            plan,
            ctx.gateway,
            project,
            dict(issue),
            slug,
            f"escalation issue of {slug}",
            only=[tax.name("escalation-severity::high").rsplit("::", 1)[0]],
        )
    open_issue = OpenIssue.read(
        ctx, plan, project, issue, ESCALATION_NOTE, "escalation issue", slug
    )
    note = open_issue.note
    severity = tax.value_of(open_issue.labels, "escalation-severity") or "high"
    closure = {"csm": mention(csm), "health": h.color if h else "-", "triage_link": triage_link}
    if tax.name("escalation::resolved") not in open_issue.labels:
        # An issue being closed keeps its text: one update (the close), not two.
        _plan_refresh(
            ctx, plan, account, a, open_issue, severity, escalation_label, tracking, triage_link
        )
    if tax.name("escalation::resolved") in open_issue.labels:
        note(
            "closed",
            "escalation_closure.md.j2",
            {**closure, "closing": True},
            "closing note with the three closure questions",
        )
        open_issue.close(
            "escalation::resolved was set by a person", resolved=tax.name("escalation::resolved")
        )
        return None, severity
    if not red:
        note(
            "closure-proposal",
            "escalation_closure.md.j2",
            {**closure, "closing": False},
            "account no longer red: ask the closure questions",
        )
        return issue, severity
    opened = opened_day(issue, today)
    last = open_issue.last_person
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
                "last_update": last.isoformat() if last else None,
                "opened": opened.isoformat(),
            },
            due.detail,
        )
    return issue, severity


def _plan_refresh(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    a: Assessment,
    open_issue: OpenIssue,
    severity: str,
    escalation_label: bool,
    tracking: Mapping[str, Any] | None,
    triage_link: Any,
) -> None:
    """Issue 9 item 1: the bot's part of the escalation issue follows the account's
    data; the owners, asks and exit criteria below it are people's."""
    description = generated.refresh_template(
        open_issue.issue.get("description"),
        "escalation_issue.md.j2",
        {
            **_context(account, a, severity, escalation_label),
            "triage_link": triage_link,
            "tracking_link": tracking_link(tracking, account.slug, {}),
        },
    )
    if description is None:
        return
    project, iid = open_issue.project, open_issue.iid
    plan.add(
        "update-issue",
        open_issue.where,
        "bring the bot's part of the description up to date with the account",
        lambda gw, _r: gw.update_issue(project, iid, description=description),
        account=account.slug,
    )
