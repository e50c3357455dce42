"""The confidential escalation issue of one account (SPEC 5.0): open it when red and
requested, remind by severity, ask the closure questions, close on
``escalation::resolved``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from gl_csm import markers
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.measure_text import health_text
from gl_csm.domain.notify import region_problem, who_to_tell
from gl_csm.domain.reminders import (
    escalation_update,
    escalation_update_days,
    escalation_update_key,
)
from gl_csm.plan import Plan, Results
from gl_csm.services.tracking import issue_link, money, tracking_link
from gl_csm.services.triage import generated, scoped_labels
from gl_csm.services.triage.bot_issues import OpenIssue, plan_bot_issue, plan_note
from gl_csm.services.triage.context import (
    ESCALATION,
    ESCALATION_NOTE,
    TRIAGE,
    TRIAGE_NOTE,
    TriageContext,
    account_file,
    drivers,
    opened_day,
)
from gl_csm.templates import Trusted, inline, mention, safe_title


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


def _people(ctx: TriageContext, account: Account) -> tuple[list[tuple[str, Trusted]], list[str]]:
    """Who an escalation mentions (SPEC 5.0): the red list of SPEC 5.1 and the Product
    and Support escalation contacts of the config; and who cannot be told, and why."""
    people = ctx.settings.people
    red = who_to_tell(account, "red", None, people)
    out = [(role, mention(name)) for role, name in red.people]
    missing = []
    for role, name in (
        ("Product escalation contact", people.escalations.product),
        ("Support escalation contact", people.escalations.support),
    ):
        if name:
            out.append((role, mention(name)))
        else:
            key = "product" if role.startswith("Product") else "support"
            missing.append(f"no {role}: set people.escalations.{key} in the config (gl-csm.yml)")
    region = region_problem(account, "red", people)
    return out, ([region] if region else []) + missing


def _context(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    severity: str,
    escalation_label: bool,
) -> dict[str, Any]:
    """What escalation_issue.md.j2 shows from the account's current data (also when the
    bot rewrites its part of an open issue while the account is red)."""
    by = " and ".join(
        p
        for p, on in (
            (
                f"`escalation_requested: true` under `risk:` in `{account_file(account)}`",
                account.risk.escalation_requested,
            ),
            ("the `escalation::requested` label on the tracking issue", escalation_label),
        )
        if on
    )
    people, not_told = _people(ctx, account)
    return {
        "marker": Trusted(markers.marker(ESCALATION, account.slug)),
        **generated.markers_context(),
        "account": account,
        "severity": severity,
        "health": health_text(a.health),
        "csm": account.team.csm or "-",
        "arr": money(account.arr),
        "requested_by": by,
        "drivers": drivers(a),
        "risk_types": ", ".join(account.risk.types),
        "risk_reasons": ", ".join(account.risk.reasons),
        "risk_impacts": ", ".join(account.risk.impacts),
        "people": people,
        "not_told": not_told,
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
    context = _context(ctx, account, a, severity, escalation_label)
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
                # Listed, or created earlier in this run.
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
    _announce_on_triage_issue(ctx, plan, account, severity, pending)
    return severity


def _announce_on_triage_issue(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    severity: str,
    pending: list[tuple[str, str]],
) -> None:
    """SPEC 5.0: triage and escalation issues link each other. The escalation links the
    triage issue from its description; the triage issue, opened earlier (or earlier in
    this run, before the escalation's URL exists), gets a note linking the escalation,
    which its participants (the people told) are notified of."""
    slug = account.slug
    key = f"escalation-opened:{ctx.today.isoformat()}"
    context = {"account": account, "severity": severity}

    def late(results: Results) -> dict[str, Any]:
        return {"escalation_link": issue_link(results.get(f"{ESCALATION}:{slug}"))}

    detail = "link the escalation opened in this run"
    listed = ctx.open_issues.get(slug, {}).get("triage")
    if listed is not None and not listed.closing:
        listed.note(key, "escalation_opened.md.j2", context, detail, late)
    elif ("triage", f"{TRIAGE}:{slug}") in pending:
        ctx.notes_on_new.setdefault(slug, {}).setdefault("triage", []).append(key)
        plan_note(
            plan,
            ctx.projects.triage,
            None,
            f"{TRIAGE}:{slug}",
            TRIAGE_NOTE,
            f"{slug}:{key}",
            "escalation_opened.md.j2",
            context,
            detail,
            slug,
            late,
        )


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
    closure = {
        "csm": mention(csm),
        "health": health_text(h),
        "triage_link": triage_link,
    }
    resolved = tax.name("escalation::resolved") in open_issue.labels
    if resolved and red:
        resolved = not _refused(ctx, plan, account, a, open_issue, escalation_label)
    if red and not resolved:
        # SPEC 5.0: the bot's part follows the account while it is red; after that it is
        # the record of the escalation (the change is the closure-proposal note), and an
        # issue being closed keeps its text: one update (the close), not two.
        _plan_refresh(
            ctx, plan, account, a, open_issue, severity, escalation_label, tracking, triage_link
        )
    if resolved:
        product, support = _dris(issue.get("description"))
        note(
            "closed",
            "escalation_closure.md.j2",
            {
                **closure,
                "triage_link": _closing_triage_link(ctx, slug, issue, triage_link),
                "closing": True,
                "product_dri": product,
                "support_dri": support,
            },
            "closing note with the three closure questions, the triage issue and the DRIs",
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
        every = escalation_update_days(severity, settings.rules) or 1
        anchor = max(opened, last) if last else opened
        # SPEC 5.0: an update is missed once its due day has passed without a person's
        # note; the one due today is not missed yet. Period k's reminder (keyed by its
        # due day) counts the due days before today.
        k = (due.due - anchor).days // every
        missed = k if due.due < today else k - 1
        region = settings.people.regions.get(account.region) if account.region else None
        manager = region.csm_manager if region else None
        # From the second missed update on the regional CSM manager is told, once per
        # run of missed updates: the reminder of the first period with two missed
        # (period 3, posted on its due day) mentions them; the later ones of the same
        # run say when, so a daily cadence does not mention them every day.
        told = _manager_told(open_issue, anchor, every, k) if manager else None
        tell = missed >= 2 and manager is not None and told is None
        note(
            due.key,
            "escalation_update.md.j2",
            {
                "account": account,
                "csm": mention(csm),
                "severity": severity,
                "every": every,
                "missed": missed,
                "due_today": due.due == today,
                "since": (anchor + timedelta(days=every)).isoformat(),
                "last_update": last.isoformat() if last else None,
                "opened": opened.isoformat(),
                "manager": mention(manager) if tell else "",
                "manager_told": told.isoformat() if told and missed >= 2 else None,
                "manager_problem": _no_manager(account, settings.people)
                if missed >= 2 and not manager
                else None,
            },
            due.detail + (f", {missed} missed: the regional CSM manager is told" if tell else ""),
        )
    return issue, severity


def _refused(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    a: Assessment,
    open_issue: OpenIssue,
    escalation_label: bool,
) -> bool:
    """``escalation::resolved`` on a red account whose escalation is still requested
    (SPEC 5.0 opens one when red and requested): closing it would make the next run open
    another, so the label goes and a note (once a day) names the request to withdraw.
    True when refused."""
    tax = ctx.settings.taxonomy
    asked = []
    if account.risk.escalation_requested:
        asked.append(f"`risk.escalation_requested: true` in `{account_file(account)}`")
    if escalation_label:
        asked.append(f"the `{tax.name('escalation::requested')}` label on the tracking issue")
    if not asked:
        return False
    open_issue.note(
        f"resolve-refused:{ctx.today.isoformat()}",
        "escalation_resolve_refused.md.j2",
        {
            "account": account,
            "csm": mention(account.team.csm),
            "health": health_text(a.health),
            "asked": asked,
        },
        "escalation::resolved while red and still requested: refused, with why",
    )
    label = tax.name("escalation::resolved")
    project, iid = open_issue.project, open_issue.iid
    plan.add(
        "update-issue",
        open_issue.where,
        f"remove {label} (refused: the escalation is still requested)",
        lambda gw, _r: gw.update_issue(project, iid, remove_labels=label),
        account=account.slug,
    )
    return True


def _manager_told(open_issue: OpenIssue, anchor: date, every: int, period: int) -> date | None:
    """The due day of this run of missed updates' reminder that told the regional CSM
    manager (the first period from the third on whose reminder was posted), if any."""
    for j in range(3, period):
        day = anchor + timedelta(days=j * every)
        if open_issue.posted(escalation_update_key(day)):
            return day
    return None


def _no_manager(account: Account, people: Any) -> str:
    """Why no regional CSM manager can be told, and where to fix it."""
    if not account.region:
        where = f"the account has no `region` in `{account_file(account)}`"
    elif account.region not in people.regions:
        where = f"region {account.region!r} is not under people.regions in the config"
    else:
        where = f"people.regions.{account.region} in the config names no csm_manager"
    return f"the regional CSM manager cannot be told: {where}"


_DRI_RE = {
    role: re.compile(rf"^\|\s*{role} DRI\s*\|\s*(.*?)\s*\|\s*$", re.MULTILINE)
    for role in ("Product", "Support")
}
_ISSUE_NUMBER = re.compile(r"(.*?)( #[0-9]+)?")
_TRIAGE_ROW = re.compile(r"^\| Triage issue \| \[(.+)\]\((https?://[^\s()]+)\) \|$", re.MULTILINE)


def _dris(description: str | None) -> tuple[str | None, str | None]:
    """The Product and Support DRIs people named in the owners table (None: not named)."""
    out = []
    for role in ("Product", "Support"):
        found = _DRI_RE[role].search(description or "")
        name = found.group(1).strip() if found else ""
        out.append(None if not name or name.strip("_ ") in ("to be named", "-") else name)
    return out[0], out[1]


def _closing_triage_link(
    ctx: TriageContext, slug: str, issue: Mapping[str, Any], triage_link: Any
) -> Any:
    """The triage issue an escalation closes with: the open one, the one this run found
    open (closed in this run too), or the one the escalation's description links (the
    bot's own row, kept once the triage issue closed)."""
    if isinstance(triage_link, Trusted) and triage_link.startswith("["):
        return triage_link
    listed = ctx.triage.get(slug)
    if listed is not None:
        return issue_link(listed)
    # The row sits in text people can edit: its title is made inert again (no mention,
    # no markup), only an http(s) URL is kept.
    found = _TRIAGE_ROW.search(issue.get("description") or "")
    if found is None:
        return "none was opened"
    # Its " #iid" is the bot's own (issue_link): kept as written, the title made inert.
    title, number = _ISSUE_NUMBER.fullmatch(found.group(1).replace("\\", "")).groups()
    return Trusted(f"[{inline(title)}{number or ''}]({found.group(2)})")


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
    """The bot's part of the escalation issue follows the account's
    data; the owners, asks and exit criteria below it are people's."""
    description = generated.refresh_template(
        open_issue.issue.get("description"),
        "escalation_issue.md.j2",
        {
            **_context(ctx, account, a, severity, escalation_label),
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
        generated.why(
            "bring the bot's part of the description up to date with the account",
            open_issue.issue.get("description"),
            description,
        ),
        lambda gw, _r: gw.update_issue(project, iid, description=description),
        account=account.slug,
    )
