"""The triage issue of one account (SPEC 5.0, 5.1): open it with the people to tell,
keep its labels, due date and milestone, remind at the at-risk cadence, notify when
the color worsens, propose leaving when green, close on ``triage::resolved``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.cadence import fiscal_quarter
from gl_csm.domain.health import worse_color
from gl_csm.domain.measure_text import health_text, measure_name, score_text
from gl_csm.domain.notify import Notify, region_problem, who_to_tell
from gl_csm.domain.reminders import AtRiskUpdate, at_risk_update
from gl_csm.domain.taxonomy import RISK_TYPES
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.tracking import (
    card_data,
    issue_link,
    label_delta,
    label_fields,
    money,
    render_template,
    template_text,
    tracking_link,
)
from gl_csm.services.triage import generated
from gl_csm.services.triage.bot_issues import OpenIssue, plan_bot_issue
from gl_csm.services.triage.context import (
    TRIAGE,
    TRIAGE_NOTE,
    TRIAGE_SCOPES,
    TriageContext,
    account_file,
    drivers,
    opened_day,
)
from gl_csm.services.triage.playbooks import playbooks, suggested_types
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


def _triage_reasons(account: Account, a: Assessment, color: str | None) -> list[str]:
    """Why the account is in triage, in words; where a person set it, which file and
    key (made inert when shown: the override texts quote registry values)."""
    h = a.health
    out = []
    if h is not None and h.color == "red":
        out.append(f"health is {health_text(h)}")
    if account.sentiment.needs_triage:
        out.append(
            f"the CSM asked for triage (`needs_triage: true` under `sentiment:` in "
            f"`{account_file(account)}`)"
        )
    if a.signals.triage_needed:
        out.append("the `triage::needed` label is set on the tracking issue")
    if not out:
        # Still open although nothing above holds: no longer red, not yet green.
        shown = health_text(h) if h is not None else "not assessed"
        out.append(
            f"health is {shown}, CSM sentiment {(h.sentiment if h else None) or 'none'} "
            f"(the account is {color or 'not rated'}): still at risk until it is back to green"
        )
    return out


_OPENED = "<!-- gl-csm-at-open: {} -->"
_OPENED_RE = re.compile(r"<!-- gl-csm-at-open: (\{.*?\}) -->")


@dataclass(frozen=True)
class AtOpen:
    """The account as it was the day its triage issue opened (a hidden line outside the
    bot's part, written once): the "before" of the closing note (handbook 002)."""

    on: date
    health: str | None  # the headline, e.g. "red (score 75): overridden by ..."
    sentiment: str | None

    def line(self) -> Trusted:
        data = {"on": self.on.isoformat(), "health": self.health, "sentiment": self.sentiment}
        # JSON of the bot's own words: no "-->" can end the comment early.
        return Trusted(_OPENED.format(json.dumps(data, sort_keys=True)))

    @classmethod
    def of(cls, a: Assessment, today: date) -> AtOpen:
        h = a.health
        return cls(today, health_text(h) if h else None, h.sentiment if h else None)

    @staticmethod
    def line_in(description: str | None) -> Trusted:
        found = _OPENED_RE.search(description or "")
        return Trusted(found.group(0) if found else "")

    @classmethod
    def read(cls, description: str | None) -> AtOpen | None:
        found = _OPENED_RE.search(description or "")
        if found is None:
            return None
        try:
            data = json.loads(found.group(1))
            on = date.fromisoformat(data["on"])
        except (ValueError, KeyError, TypeError):
            return None
        health, sentiment = data.get("health"), data.get("sentiment")
        return cls(
            on,
            health if isinstance(health, str) else None,
            sentiment if isinstance(sentiment, str) else None,
        )


def _people_lines(notify: Notify) -> list[tuple[str, Trusted]]:
    return [(role, mention(name)) for role, name in notify.people]


def _milestone(account: Account, settings: Settings) -> tuple[str, date, date] | None:
    """SPEC 5.0: a milestone named after the fiscal quarter of the renewal."""
    if account.renewal_date is None:
        return None
    q = fiscal_quarter(account.renewal_date, settings.rules.fiscal_year_start_month)
    return (q.name, q.start, q.end)  # q.name: cadence.milestone_name of the renewal


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
    if not a.needs_triage or concluded_lost(a):
        return None, None
    return None, _plan_new_triage_issue(ctx, plan, account, a, notify, tracking, pending, ms)


def concluded_lost(a: Assessment) -> bool:
    """The customer is concluded lost: the assessed lifecycle is will-churn (every box of
    the checklist ticked) or churned. Handbook 002 "Will Churn": that conclusion ends the
    triage, so the bot opens no new triage issue for the red health or the registry's
    ``needs_triage`` that made the last one; a person who wants one back adds
    ``triage::needed`` to the tracking issue."""
    return a.lifecycle in ("will-churn", "churned") and not a.signals.triage_needed


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


def playbook_text(account: Account, a: Assessment) -> Trusted:
    """The playbook part of a triage issue (issue_templates/triage_playbook.md.j2): the
    recorded risk types' playbooks, or those the red measures suggest when none is."""
    books = playbooks()
    recorded = tuple(t for t in account.risk.types if t in books["types"])
    suggested: dict[str, list[str]] = {}
    if not recorded and a.health is not None:
        suggested = suggested_types([m.name for m in a.health.measures if m.color == "red"])
    return playbook_part(
        account_file(account), recorded, tuple((k, tuple(v)) for k, v in suggested.items())
    )


def playbook_part(
    file: str, recorded: tuple[str, ...], suggested: tuple[tuple[str, tuple[str, ...]], ...]
) -> Trusted:
    """The playbook part for recorded risk types, or for the types red measures point
    to (type, its red measures) when none is recorded."""
    return _playbook_part(file, recorded, suggested, template_text("triage_playbook.md.j2"))


@cache
def _playbook_part(
    file: str,
    recorded: tuple[str, ...],
    suggested: tuple[tuple[str, tuple[str, ...]], ...],
    source: str,
) -> Trusted:
    """Rendered once per run for each combination (``source``, the template text, is
    part of the key only: an edited template renders anew). A no-op rerun of
    an open triage issue renders nothing but this (its stamp tells the part is up to
    date, generated.py)."""
    books = playbooks()
    pointed = dict(suggested)
    shown = []
    for kind in recorded or tuple(pointed):
        because = ""
        if kind in pointed:
            named = [measure_name(m) for m in pointed[kind]]
            because = f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} red"
        shown.append({**books["types"][kind], "because": because})
    context = {
        "account_file": file,
        "all_types": ", ".join(RISK_TYPES),
        "suggested": bool(pointed),
        "suggested_names": Trusted(
            ("the risk types " if len(pointed) > 1 else "the risk type ")
            + " and ".join(f"`{k}`" for k in pointed)
        ),
        "common_discovery": books.get("common_discovery", ""),
        "playbooks": shown,
    }
    return Trusted(render_template("triage_playbook.md.j2", context).strip())


def _told(
    account: Account,
    issue: Mapping[str, Any] | None,
    open_issue: OpenIssue | None,
    settings: Settings,
) -> tuple[Notify, str | None]:
    """The people the issue mentioned when it opened (its description records the color)
    and the worst color anyone was told at since (each notify note is keyed by color)."""
    found = _NOTIFIED_RE.search((issue or {}).get("description") or "")
    at_open = found.group(1) if found and found.group(1) != "none" else None
    told = at_open
    if open_issue is not None:
        for color in ("yellow", "red"):
            if open_issue.posted(color):
                told = worse_color(told, color)
    return who_to_tell(account, at_open, None, settings.people), told


def _context(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    told: Notify,
    told_color: str | None,
    color: str | None,
    at: Any,
    ms: tuple[str, date, date] | None,
) -> dict[str, Any]:
    """What triage_issue.md.j2 shows, from the account's current data (also when the bot
    rewrites its part of an open issue while the account is at risk). ``told``: the
    people the issue mentioned when it opened (a rewrite must not mention anyone new:
    GitLab would notify them); those told later in notes (the account turned
    ``told_color``) are named without a mention. ``color``: the deciding color now."""
    settings = ctx.settings
    h = a.health
    slug = account.slug
    cadence = "weekly" if at.weekly else "monthly"
    multi = any(
        len(v) > 1 for v in (account.risk.types, account.risk.reasons, account.risk.impacts)
    )
    mentioned = {name for _, name in told.people}
    later = who_to_tell(account, told_color, None, settings.people) if told_color else told
    return {
        "marker": Trusted(markers.marker(TRIAGE, slug)),
        "notified_marker": Trusted(_NOTIFIED.format(color=told.color or "none")),
        **generated.markers_context(),
        "account": account,
        "account_file": account_file(account),
        "project_link": _project_link(ctx, account),
        "milestone": ms[0] if ms else None,
        "arr": money(account.arr),
        "health": health_text(h),
        "sentiment": h.sentiment if h else None,
        "cadence": f"{cadence} (every {at.every_days} days)",
        "csm": account.team.csm or "-",
        "triage_reasons": _triage_reasons(account, a, color),
        "drivers": drivers(a),
        "risk_types": ", ".join(account.risk.types),
        "risk_reasons": ", ".join(account.risk.reasons),
        "risk_impacts": ", ".join(account.risk.impacts),
        "risk_labels_note": "Scoped labels hold one value per scope: this issue is "
        "labelled with the first value of each list; all of them are listed above."
        if multi
        else "",
        "color": color or "not rated",
        "told_color": told_color,
        "people": _people_lines(told),
        "told_later": [(r, n) for r, n in later.people if n not in mentioned],
        "region_warning": region_problem(account, told_color or told.color, settings.people),
        "at_risk_format": at_risk_format(),
        "playbook": playbook_text(account, a),
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
    context = {
        **_context(ctx, account, a, notify, notify.color, notify.color, at, ms),
        "opened_marker": AtOpen.of(a, today).line(),
    }

    def description(results: Results) -> str:
        # The tracking issue listed, or created earlier in this run.
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
    leaving (green) or remind and notify, and keep its labels, due date and milestone.
    While the account is at risk its bot part follows the account; once the risk clears
    it stays the record of the risk (SPEC 5.0) and the change is the exit-proposal note."""
    settings, today = ctx.settings, ctx.today
    open_issue = OpenIssue.read(
        ctx, plan, ctx.projects.triage, issue, TRIAGE_NOTE, "triage issue", account.slug
    )
    opened = opened_day(issue, today)
    if _plan_resolved(ctx, account, a, notify, tracking, open_issue, opened):
        return None, None
    last = open_issue.last_person
    at = at_risk_update(opened, last, account.renewal_date, today, settings.rules)
    exit_ready = not a.needs_triage and notify.color == "green"
    if exit_ready:
        open_issue.note(
            "exit-proposal",
            "resolution_update.md.j2",
            {
                "account": account,
                "csm": mention(account.team.csm),
                "health": health_text(a.health),
                "sentiment": a.health.sentiment if a.health else None,
            },
            "health back to green: propose leaving triage",
        )
    else:
        _plan_at_risk_reminder(account, open_issue, at, opened, last)
        _plan_newly_notified(ctx, account, notify, open_issue)
    _plan_triage_update(ctx, plan, account, a, notify, tracking, open_issue, at, exit_ready, ms)
    return issue, (None if exit_ready else at.next_due)


def _plan_resolved(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    open_issue: OpenIssue,
    opened: date,
) -> bool:
    """``triage::resolved`` set by a person: close the issue with the closing note when
    the account is won back or lost (True), else refuse with a note saying why (the
    label goes with the update, :func:`_plan_triage_update`)."""
    tax = ctx.settings.taxonomy
    if tax.name("triage::resolved") not in open_issue.labels:
        return False
    # The assessed lifecycle: the registry's, or will-churn once the checklist set the
    # tracking issue's label (moves/will_churn.in_triage), so the conclusion the refusal
    # advises can be reached either way.
    lost = a.lifecycle in ("will-churn", "churned")
    red = notify.color == "red"
    asked = _asked_by(ctx, account, a) if not red else ()
    if lost or not (red or asked):
        # SPEC 5: close only when a person adds triage::resolved; handbook 002 "At-Risk
        # Conclusion": the customer is won back (no longer red) or lost (will churn).
        open_issue.note(
            "closed",
            "triage_closed.md.j2",
            closing_facts(ctx, account, a, notify, tracking, open_issue, opened, lost),
            "closing note with the resolution and its facts, telling the people told at risk",
        )
        open_issue.close(
            "triage::resolved was set by a person", resolved=tax.name("triage::resolved")
        )
        return True
    # Closing a still-red account would say "no longer at risk" while it is; closing one
    # the CSM still asks triage for (SPEC 4: needs triage whatever the color) would
    # leave it in triage without its issue, and the next run would open another: both
    # refused with a note saying why; the label goes (below).
    h = a.health
    open_issue.note(
        f"resolve-refused:{ctx.today.isoformat()}",
        "triage_resolve_refused.md.j2",
        {
            "account": account,
            "account_file": account_file(account),
            "csm": mention(account.team.csm),
            "health": health_text(h),
            "sentiment": h.sentiment if h else None,
            "drivers": drivers(a, ("red",)),
            "asked": asked,
        },
        "triage::resolved on a still-red account: refused, with why"
        if red
        else "triage::resolved while triage is still asked for: refused, with why",
    )
    return False


def _asked_by(ctx: TriageContext, account: Account, a: Assessment) -> tuple[str, ...]:
    """What still asks triage for the account whatever its color (SPEC 4 "Needs
    triage"): the registry's ``sentiment.needs_triage``, the tracking issue's label."""
    asked = []
    if account.sentiment.needs_triage:
        asked.append(f"`sentiment.needs_triage: true` in `{account_file(account)}`")
    if a.signals.triage_needed:
        asked.append(
            f"the `{ctx.settings.taxonomy.name('triage::needed')}` label on the tracking issue"
        )
    return tuple(asked)


def _plan_at_risk_reminder(
    account: Account, open_issue: OpenIssue, at: AtRiskUpdate, opened: date, last: date | None
) -> None:
    """The at-risk update reminder due now, if one is."""
    if at.reminder is None:
        return
    # Which reminder this is (reminder k since the last person's update, or the
    # opening): two reminders never read the same, and the CSM sees how many updates
    # went by (SPEC 5.2, handbook 002 "Frequency of At Risk Timeline Entries").
    anchor = max(opened, last) if last else opened
    number = (at.reminder.due - anchor).days // at.every_days
    open_issue.note(
        at.reminder.key,
        "at_risk_reminder.md.j2",
        {
            "account": account,
            "csm": mention(account.team.csm),
            "weekly": at.weekly,
            "cadence": "weekly" if at.weekly else "monthly",
            "period": at.reminder.due.isoformat(),
            "number": number,
            "missed_since": (anchor + timedelta(days=at.every_days)).isoformat(),
            "last_update": last.isoformat() if last else None,
            "opened": opened.isoformat(),
            "at_risk_format": at_risk_format(),
        },
        at.reminder.detail + (f", reminder {number}" if number > 1 else ""),
    )


def _label_cause(labels: list[str], exit_ready: bool, tax: Any) -> str:
    """Why the triage issue's labels move, for the plan: the ``triage::`` state follows
    the account's health (SPEC 5.0), the risk labels the registry's ``risk:`` record."""
    causes = []
    if any((tax.canonical(x) or "").startswith("triage::") for x in labels):
        causes.append("health back to green" if exit_ready else "the account is at risk")
    if any(not (tax.canonical(x) or "").startswith("triage::") for x in labels):
        causes.append("the registry's risk record")
    return ", ".join(causes)


def _plan_triage_update(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    open_issue: OpenIssue,
    at: AtRiskUpdate,
    exit_ready: bool,
    ms: tuple[str, date, date] | None,
) -> None:
    """One update of the open triage issue: its labels, due date (the next at-risk
    update), milestone, and while at risk the bot's part of its description."""
    settings, tax, slug = ctx.settings, ctx.settings.taxonomy, account.slug
    issue = open_issue.issue
    # SPEC 5.0: the record of a risk stays as it was while at risk.
    at_risk = a.needs_triage or notify.color in ("yellow", "red")
    want = [tax.name("triage::exit-proposed" if exit_ready else "triage::open")]
    scopes: tuple[str, ...] = TRIAGE_SCOPES
    if at_risk:
        want += _risk_labels(account, settings)
    else:
        scopes = ("triage",)  # the risk labels are the record: kept as they are
    add, remove = label_delta(open_issue.labels, want, scopes, tax)
    fields, parts = label_fields(add, remove)
    if parts:
        parts[-1] += f" ({_label_cause(add + remove, exit_ready, tax)})"
    if not exit_ready and issue.get("due_date") != at.next_due.isoformat():
        fields["due_date"] = at.next_due.isoformat()
        parts.append(f"due date {at.next_due} (next at-risk update)")
    move = ms if ms is not None and (issue.get("milestone") or {}).get("title") != ms[0] else None
    if move:
        ctx.milestones.plan_missing(plan, ctx.gateway, *move, slug)
        parts.append(f"milestone {move[0]}")
    if at_risk:
        # The bot's part of the description follows the account's data while at risk.
        told, told_color = _told(account, issue, open_issue, settings)
        description = generated.refresh_template(
            issue.get("description"),
            "triage_issue.md.j2",
            {
                **_context(ctx, account, a, told, told_color, notify.color, at, ms),
                # Its own line, as written when the issue opened: the same inputs.
                "opened_marker": AtOpen.line_in(issue.get("description")),
                "tracking_link": tracking_link(tracking, slug, {}),
            },
        )
        if description is not None:
            fields["description"] = description
            parts.append(
                generated.why(
                    "bring the bot's part of the description up to date with the account",
                    issue.get("description"),
                    description,
                )
            )
    if not parts:
        return
    project, iid = ctx.projects.triage, open_issue.iid

    def update(gw: Gateway, _r: Results) -> dict:
        data: dict[str, Any] = dict(fields)
        if move:
            data["milestone_id"] = ctx.milestones.id_for(gw, *move)
        return gw.update_issue(project, iid, **data)

    plan.add("update-issue", open_issue.where, "; ".join(parts), update, account=slug)


def _last_person_update(ctx: TriageContext, open_issue: OpenIssue) -> dict[str, Any] | None:
    """The last note a person wrote on the issue (one read, when it closes): its author,
    day, link and opening words, for the closing note (handbook 002: the resolution
    carries "key details about what mitigated the risk")."""
    notes = [
        n
        for n in ctx.gateway.notes(open_issue.project, open_issue.iid)
        if not n.get("system") and not markers.markers_in(n.get("body"))
    ]
    if not notes:
        return None
    last = max(notes, key=lambda n: (n.get("created_at") or "", n.get("id") or 0))
    words = " ".join(str(last.get("body") or "").split())
    url = open_issue.issue.get("web_url")
    return {
        "author": (last.get("author") or {}).get("username") or "a person",
        "on": (last.get("created_at") or "")[:10],
        "link": Trusted(f"[the update]({url}#note_{last['id']})") if url else "",
        "quote": words if len(words) <= _QUOTE_CHARS else words[: _QUOTE_CHARS - 1] + "…",
    }


_QUOTE_CHARS = 300


def _before(ctx: TriageContext, issue: Mapping[str, Any], slug: str, opened: date) -> AtOpen:
    """The account when the issue opened: its hidden line, or for an issue opened before
    it was written, the portfolio history of that day (no sentiment there)."""
    found = AtOpen.read(issue.get("description"))
    if found is not None:
        return found
    rows = [r for r in ctx.history.get(slug, []) if r.day <= opened]
    if not rows:
        return AtOpen(opened, None, None)
    row = rows[-1]
    return AtOpen(opened, row.health, None if row.score is None else score_text(row.score), None)


def _sentiment_since(account: Account, a: Assessment, tracking: Mapping[str, Any] | None) -> str:
    """Since when the current sentiment holds: the registry's date, or the day the card
    first saw the label's value."""
    h = a.health
    if h is None or h.sentiment is None:
        return ""
    if not h.sentiment_from_label and account.sentiment.updated is not None:
        return account.sentiment.updated.isoformat()
    data = card_data((tracking or {}).get("description"))
    since = data.get("since") if data.get("sentiment") == h.sentiment else None
    return since if isinstance(since, str) else ""


def closing_facts(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    notify: Notify,
    tracking: Mapping[str, Any] | None,
    open_issue: OpenIssue,
    opened: date,
    lost: bool,
) -> dict[str, Any]:
    """What triage_closed.md.j2 says (SPEC 5.0): health and sentiment before and after
    with their dates, days in triage, the last person update or that none was posted,
    and the people told while at risk, mentioned so they learn of the resolution."""
    h = a.health
    before = _before(ctx, open_issue.issue, account.slug, opened)
    _, told_color = _told(account, open_issue.issue, open_issue, ctx.settings)
    told = who_to_tell(account, told_color, None, ctx.settings.people)
    was = before.health or "not recorded"
    return {
        "lost": lost,
        "lifecycle": a.lifecycle,
        "color": notify.color,
        "health_before": was,
        "health_after": health_text(h),
        "sentiment_before": before.sentiment or "not recorded",
        "sentiment_after": (h.sentiment if h else None) or "none",
        "sentiment_since": _sentiment_since(account, a, tracking),
        "sentiment_changed": bool(h and h.sentiment and h.sentiment != before.sentiment),
        "opened": opened.isoformat(),
        "today": ctx.today.isoformat(),
        "days": (ctx.today - opened).days,
        "last_update": _last_person_update(ctx, open_issue),
        "told_color": told_color,
        "told": Trusted(", ".join(mention(name) for name in told.usernames)),
        "tracking_link": issue_link(tracking) if tracking else "-",
    }


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
