"""Notes on the tracking issue (SPEC 5.2): stale health and end of onboarding, each
posted once and recorded in the card's hidden data. On a tracking issue the run
creates, their text goes below the card in its create instead (one request per
object)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.reminders import Due, applies_to, due_now, stale_health
from gl_csm.plan import Plan
from gl_csm.services.triage.bot_issues import note_body, plan_note
from gl_csm.services.triage.context import TRACKING_NOTE, TriageContext, account_file, day_of
from gl_csm.templates import mention

DueNote = tuple[Due, str, dict[str, Any]]


def tracking_notes(
    ctx: TriageContext,
    account: Account,
    a: Assessment,
    previous: Mapping[str, Any],
    color: str | None,
    sentiment: str | None,
    since: str | None,
) -> tuple[list[DueNote], dict[str, Any]]:
    """SPEC 5.2 stale health and end of onboarding: the notes due now on the tracking
    issue (not yet recorded as posted in its card), and the card's new hidden data."""
    settings, today = ctx.settings, ctx.today
    posted = {k for k in previous.get("posted", []) if isinstance(k, str)}
    stale = stale_health(color, a.lifecycle, day_of(since), today, settings.rules)
    csm = mention(account.team.csm)
    due_notes: list[DueNote] = []
    if stale is not None and stale.key not in posted:
        context = {
            "csm": csm,
            "color": color,
            "sentiment": sentiment,
            "since": since,
            "days": settings.rules.cadence.stale_health_days,
            "account_file": account_file(account),
        }
        due_notes.append((stale, "note_stale_health.md.j2", context))
    # The reminder kinds posted as notes (the end of onboarding, handbook 001).
    relevant = {stale.key} if stale is not None else set()
    for kind in settings.rules.reminders:
        if kind.post != "note" or not applies_to(kind, account):
            continue
        for due in due_now(kind, account, today, settings.rules):
            relevant.add(due.key)
            if due.key in posted:
                continue
            context = {
                "csm": csm,
                "kind": kind.title,
                "mentions": [
                    m for m in (mention(getattr(account.team, r)) for r in kind.mentions) if m
                ],
                "ended": due.due,
                "due": due.due,
                "priority": a.priority.priority,
                "reasons": "; ".join(a.priority.reasons),
            }
            due_notes.append((due, kind.template, context))
    data: dict[str, Any] = {}
    if sentiment is not None:
        data = {"sentiment": sentiment, "since": since}
    # Only keys still relevant are kept, so the card does not grow forever.
    now_posted = sorted((posted | {d.key for d, _, _ in due_notes}) & relevant)
    if now_posted:
        data["posted"] = now_posted
    return due_notes, data


def plan_tracking_notes(
    ctx: TriageContext,
    plan: Plan,
    account: Account,
    tracking: Mapping[str, Any],
    due_notes: list[DueNote],
) -> None:
    """The notes on an existing tracking issue."""
    slug = account.slug
    for due, template, context in due_notes:
        plan_note(
            plan,
            ctx.projects.accounts,
            tracking["iid"],
            None,
            TRACKING_NOTE,
            f"{slug}:{due.key}",
            template,
            {"account": account, **context},
            f"{due.detail} ({slug})",
            slug,
        )


def notes_text(account: Account, due_notes: list[DueNote]) -> str:
    """The notes due on a tracking issue this run creates, as the text of its create
    (each with its marker, as the note would carry it)."""
    return "\n\n".join(
        note_body(
            TRACKING_NOTE, f"{account.slug}:{due.key}", template, {"account": account, **ctx}
        ).strip()
        for due, template, ctx in due_notes
    )
