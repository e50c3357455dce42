"""The triage issue of one account (SPEC 5.0, 5.1): open it with the people to tell,
keep its labels, due date and milestone, remind at the at-risk cadence, notify when
the color worsens, propose leaving when green, close on ``triage::resolved``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.cadence import fiscal_quarter, milestone_name
from gl_csm.domain.health import worse_color
from gl_csm.domain.notify import Notify, region_problem, who_to_tell
from gl_csm.domain.reminders import at_risk_update
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.triage import generated
from gl_csm.services.triage.bot_issues import OpenIssue, plan_bot_issue
from gl_csm.services.triage.context import (
    TRIAGE,
    TRIAGE_NOTE,
    TRIAGE_SCOPES,
    TriageContext,
    drivers,
    opened_day,
    score_of,
)
from gl_csm.services.triage.playbooks import playbooks
from gl_csm.services.triage.tracking import (
    issue_link,
    label_delta,
    label_fields,
    money,
    render_template,
    tracking_link,
)
from gl_csm.templates import Trusted, inline, mention, safe_title

_NOTIFIED = "<!-- gl-csm-notified: {color} -->"


def at_risk_format() -> Trusted:
    # The bot's own text (no account data): trusted, rendered once.
    return Trusted(render_template("at_risk_update_format.md.j2", {}).strip())


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


def plan_triage_issue(
    ctx: TriageContext,
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


def _project_link(ctx: TriageContext, account: Account) -> Any:
    """The collaboration project as a link (from the registry's `project:`, no read)."""
    if not account.project:
        return "- (not onboarded yet)"
    path = account.project.strip("/")
    if ctx.accounts_project is not None:
        # GitLab's web_url (its external URL), whatever URL the bot reaches it by.
        from gl_csm.services.lookup import web_url_of

        return Trusted(f"[{inline(path)}]({web_url_of(ctx.accounts_project, path)})")
    return Trusted(f"[{inline(path)}]({ctx.gateway.url.rstrip('/')}/{path})")


def _context(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    told: Notify,
    at: Any,
    ms: tuple[str, date, date] | None,
) -> dict[str, Any]:
    """What triage_issue.md.j2 shows, from the account's current data (also when the bot
    rewrites its part of an open issue, issue 9 item 1). ``told``: the people the issue
    mentioned when it opened (a rewrite must not mention anyone new: GitLab would notify
    them; people added when the color worsens are told in a note)."""
    settings = ctx.settings
    h = a.health
    slug = account.slug
    cadence = "weekly" if at.weekly else "monthly"
    multi = any(
        len(v) > 1 for v in (account.risk.types, account.risk.reasons, account.risk.impacts)
    )
    types = [t for t in account.risk.types if t in playbooks()["types"]]
    return {
        "marker": Trusted(markers.marker(TRIAGE, slug)),
        "notified_marker": Trusted(_NOTIFIED.format(color=told.color or "none")),
        **generated.markers_context(),
        "account": account,
        "project_link": _project_link(ctx, account),
        "milestone": ms[0] if ms else None,
        "arr": money(account.arr),
        "health": h.color if h else "-",
        "score": score_of(a),
        "sentiment": h.sentiment if h else None,
        "cadence": f"{cadence} (every {at.every_days} days)",
        "csm": account.team.csm or "-",
        "triage_reasons": _triage_reasons(account, a),
        "drivers": drivers(a),
        "risk_types": ", ".join(account.risk.types),
        "risk_reasons": ", ".join(account.risk.reasons),
        "risk_impacts": ", ".join(account.risk.impacts),
        "risk_labels_note": "Scoped labels hold one value per scope: this issue is "
        "labelled with the first value of each list; all of them are listed above."
        if multi
        else "",
        "color": told.color or "none",
        "people": _people_lines(told),
        "region_warning": region_problem(account, told.color, settings.people),
        "at_risk_format": at_risk_format(),
        "common_discovery": playbooks().get("common_discovery", ""),
        "playbooks": [playbooks()["types"][t] for t in types],
    }


def _plan_new_triage_issue(
    ctx: TriageContext,
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
    labels = [tax.name("triage::open"), *_risk_labels(account, settings)]
    context = _context(ctx, account, a, notify, at, ms)

    def description(results: Results) -> str:
        # The tracking issue listed, or created earlier in this run (issue 9 item 2).
        link = tracking_link(tracking, slug, results)
        return generated.render_stamped("triage_issue.md.j2", {**context, "tracking_link": link})

    title = safe_title(f"Account triage: {account.name}")
    plan_bot_issue(
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
    ctx: TriageContext,
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
    open_issue = OpenIssue.read(ctx, plan, project, issue, TRIAGE_NOTE, "triage issue", slug)
    iid, labels, note = open_issue.iid, open_issue.labels, open_issue.note
    h = a.health

    # The assessed lifecycle: the registry's, or will-churn once the checklist set the
    # tracking issue's label (moves/will_churn.in_triage), so the conclusion the refusal
    # advises can be reached either way.
    lost = a.lifecycle in ("will-churn", "churned")
    if tax.name("triage::resolved") in labels and (notify.color != "red" or lost):
        # SPEC 5: close only when a person adds triage::resolved; handbook 002 "At-Risk
        # Conclusion": the customer is won back (no longer red) or lost (will churn).
        note(
            "closed",
            "triage_closed.md.j2",
            {
                "health": h.color if h else "-",
                "color": notify.color,
                "lost": lost,
                "lifecycle": a.lifecycle,
                "score": score_of(a),
                "sentiment": h.sentiment if h else None,
                "tracking_link": issue_link(tracking) if tracking else "-",
            },
            "closing note with the resolution format",
        )
        open_issue.close(
            "triage::resolved was set by a person", resolved=tax.name("triage::resolved")
        )
        return None, None
    if tax.name("triage::resolved") in labels:
        # Issue 9 item 4: closing a still-red account would say "no longer at risk"
        # while it is: refused with a note saying why; the label goes (below).
        note(
            f"resolve-refused:{today.isoformat()}",
            "triage_resolve_refused.md.j2",
            {
                "account": account,
                "csm": mention(account.team.csm),
                "health": h.color if h else "-",
                "score": score_of(a),
                "sentiment": h.sentiment if h else None,
                "drivers": [d for d in drivers(a) if d.startswith("override") or " is red" in d],
            },
            "triage::resolved on a still-red account: refused, with why",
        )

    opened = opened_day(issue, today)
    last = open_issue.last_person
    at = at_risk_update(opened, last, account.renewal_date, today, settings.rules)
    exit_ready = not a.needs_triage and notify.color == "green"
    csm = mention(account.team.csm)
    if exit_ready:
        note(
            "exit-proposal",
            "resolution_update.md.j2",
            {"account": account, "csm": csm, "score": score_of(a)},
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
                    "last_update": last.isoformat() if last else None,
                    "opened": opened.isoformat(),
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
        ctx.milestones.plan_missing(plan, ctx.gateway, *move, slug)
        parts.append(f"milestone {move[0]}")
    # Issue 9 item 1: the bot's part of the description follows the account's data.
    found = _NOTIFIED_RE.search(issue.get("description") or "")
    told_color = found.group(1) if found and found.group(1) != "none" else None
    told = who_to_tell(account, told_color, None, settings.people)
    description = generated.refresh_template(
        issue.get("description"),
        "triage_issue.md.j2",
        {
            **_context(ctx, account, a, told, at, ms),
            "tracking_link": tracking_link(tracking, slug, {}),
        },
    )
    if description is not None:
        fields["description"] = description
        parts.append("bring the bot's part of the description up to date with the account")
    if parts:

        def update(gw: Gateway, _r: Results) -> dict:
            data: dict[str, Any] = dict(fields)
            if move:
                data["milestone_id"] = ctx.milestones.id_for(gw, *move)
            return gw.update_issue(project, iid, **data)

        plan.add("update-issue", open_issue.where, "; ".join(parts), update, account=slug)
    return issue, (None if exit_ready else at.next_due)


_NOTIFIED_RE = re.compile(r"<!-- gl-csm-notified: ([a-z]+) -->")


def _plan_newly_notified(
    ctx: TriageContext, account: Account, notify: Notify, issue: OpenIssue
) -> None:
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
