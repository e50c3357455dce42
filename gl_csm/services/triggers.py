"""The reaction triggers (SPEC 5 React) as one table, with their actions.

`gl-csm react` (and `gl-csm serve`, which calls it) routes an added label to its row;
the scheduled `triage` catches up, for every account, the rows whose label is still on
the issue when the delivery was missed (ARCHITECTURE: "the scheduled run re-reads
every trigger label"); the README's trigger table is :func:`markdown` of this table. A
new trigger is one row here plus its action. The pure part (the row, matching, the
docs) is :mod:`gl_csm.domain.triggers`.

Actions never trust the payload: what they plan comes from what GitLab has now (the
issue read back, its marker and labels checked), and most are "triage the account now",
the same plan as the daily run's for that account (ARCHITECTURE rule 2), so a forged or
stale payload can at most make the bot do early what its scheduled run would do anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain import triggers as table_rules
from gl_csm.domain.triggers import Trigger
from gl_csm.errors import ConfigError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, failure_text
from gl_csm.services.promote_guard import refusal
from gl_csm.services.reaction import IssueEvent, Reaction, ignored

if TYPE_CHECKING:
    from gl_csm.services.triage.context import TriageContext

#: Marker kind of the note telling a person what became of a label they added.
LABEL_NOTE = "label-note"


def project_of(settings: Settings, kind: str, command: str = "react") -> str:
    """The internal project where the bot's issues of ``kind`` live."""
    _, projects = settings.require_layout(command)
    return {
        "tracking": projects.accounts,
        "triage": projects.triage,
        "escalation": projects.escalations,
    }[kind]


@dataclass(frozen=True)
class Fired:
    """One reaction's inputs: the event, the bot's issue (read back, marker checked),
    the account, the trigger labels of the rows that fired (canonical -> GitLab name,
    in the event's order), and the account's triage (run.plan_triage, given by react so
    this module stays below the daily run)."""

    gateway: Gateway
    settings: Settings
    today: date
    event: IssueEvent
    kind: str
    issue: Mapping[str, Any]
    slug: str
    labels: tuple[str, ...]
    triage: Callable[[int | None], Reaction]

    @property
    def label(self) -> str:
        return self.labels[0]

    @property
    def where(self) -> str:
        return f"{self.event.ref}, the {self.kind} issue of {self.slug}"

    def triage_now(self) -> Reaction:
        """The account's part of the daily triage; the hook's issue is passed when it is
        the tracking issue (already read and verified by marker)."""
        reaction = self.triage(self.event.iid if self.kind == "tracking" else None)
        reaction.trigger, reaction.event = self.label, self.event
        return reaction

    def tell(self, plan: Plan, label: str, what: str) -> None:
        """Plan one note on the issue telling the person who added ``label`` what became
        of it and why. One per edit of theirs (the marker carries the edit's time), so a
        repeated delivery writes nothing."""
        project = project_of(self.settings, self.kind)
        event, slug = self.event, self.slug
        canonical = self.settings.taxonomy.canonical(label) or "label"
        stamp = "".join(ch for ch in (event.updated or "") if ch.isdigit()) or "0"
        token = markers.token(LABEL_NOTE, f"{slug}/{canonical}/{stamp}")
        notes = self.gateway.notes(project, event.iid)
        if any(token in (n.get("body") or "") for n in notes):
            return
        who = f"@{event.user} " if event.user else ""
        body = f"{markers.marker(LABEL_NOTE, token.split(':', 2)[2])}\n{who}`{label}` {what}.\n"
        plan.add(
            "create-note",
            f"{project}#{event.iid} ({self.kind} issue of {slug})",
            f"tell {event.user or 'the person'} why {label} {what.split(':')[0]}",
            lambda gw, _r: gw.create_note(project, event.iid, body, token),
            account=slug,
        )


# ---------------------------------------------------------------- the actions


def triage_now(f: Fired) -> Reaction:
    """Triage that account now: the daily triage reads these labels (LabelSignals)."""
    reaction = f.triage_now()
    reaction.reason = f"{', '.join(f.labels)} added on {f.where}: triage the account now"
    return reaction


def take_back_early_will_churn(f: Fired, reaction: Reaction, label: str) -> None:
    """SPEC 4: the label waits for the last box of the checklist; the triage's tracking
    update takes it back, and the person who added it is told why."""
    if reaction.lifecycle == "will-churn":
        return
    f.tell(
        reaction.plan,
        label,
        "is taken back for now: it is set once every step of the account's "
        "will-churn checklist (handbook 002) is ticked. The checklist is opened "
        "for the CSM in this project; when its last box is ticked, the daily "
        "triage sets the label",
    )


def escalate_now(f: Fired) -> Reaction:
    """SPEC 5 Triage: an escalation opens when the account is red and requested."""
    reaction = f.triage_now()
    color = reaction.health
    if color != "red":
        return ignored(
            f"{f.label} added on {f.where}, but the account's health is "
            f"{color or 'not assessed'}, not red: no escalation opened; the label stays "
            f"and the daily triage opens the escalation when the account turns red",
            f.event,
            f.slug,
        )
    reaction.reason = f"{f.label} added on {f.where}: escalate now (the account is red)"
    return reaction


def _closes(f: Fired, reaction: Reaction) -> bool:
    where = f"{project_of(f.settings, f.kind)}#{f.event.iid} "  # OpenIssue.where
    return any(
        c.action == "close-issue" and c.target.startswith(where) for c in reaction.plan.changes
    )


def close_triage(f: Fired) -> Reaction:
    """The triage plan decides (services/triage/triage_issue.py): a still-red account
    whose assessed lifecycle is not will-churn is refused, with a note saying why."""
    reaction = f.triage_now()
    reaction.reason = f"{f.label} added on {f.where}: " + (
        "close it with the resolution format"
        if _closes(f, reaction)
        else "refused, the account is still red and not concluded lost (will-churn): "
        "the label is removed and a note says why"
    )
    return reaction


def close_escalation(f: Fired) -> Reaction:
    """The escalation plan closes the issue with the closure questions
    (services/triage/escalation.py)."""
    reaction = f.triage_now()
    what = "close it with the closure questions" if _closes(f, reaction) else "nothing to close"
    reaction.reason = f"{f.label} added on {f.where}: {what}"
    return reaction


def promote(f: Fired) -> Reaction:
    """`gl-csm promote` for the account, then the trigger label is removed."""
    from gl_csm.services.collaboration.promote import plan_promote_on_label

    try:
        plan = plan_promote_on_label(f.gateway, f.settings, f.slug, f.today, f.event.iid, f.label)
    except ConfigError:
        raise  # a bad registry or config (e.g. `project:` naming an internal project): exit 2
    except UsageError as exc:
        # A reason not to act (not paid yet, no project): ignored with the reason, exit 0
        # (SPEC 7: 2 is for bad usage or config); the label stays for a later run, and
        # the person who added it is told why on the issue (not only in a job log).
        reaction = ignored(f"{f.label} on the tracking issue of {f.slug}: {exc}", f.event, f.slug)
        f.tell(
            reaction.plan,
            f.label,
            f"is not acted on yet: {exc}. The label stays; the promotion runs once that "
            f"is done (the daily triage retries it)",
        )
        return reaction
    return Reaction(
        plan=plan,
        status="acted",
        account=f.slug,
        trigger=f.label,
        event=f.event,
        reason=f"{f.label} added on {f.where}: promote the account",
    )


def promote_later(ctx: TriageContext, slug: str, issue: Mapping[str, Any], label: str) -> Plan:
    from gl_csm.services.collaboration.promote import plan_promote_on_label

    return plan_promote_on_label(ctx.gateway, ctx.settings, slug, ctx.today, issue["iid"], label)


# ---------------------------------------------------------------- the table

_READS = "the account's scheduled triage reads the label"
_SAME_PLAN = "the triage plan is idempotent: the same day it writes nothing again"

#: Order matters only between rows firing together on one issue: the first matching
#: row acts (with the rows sharing its action); a row marked ``alone`` acts by itself.
TABLE: tuple[Trigger, ...] = (
    Trigger(
        "action::promote",
        "tracking",
        "promote the account (`gl-csm promote`), then remove the label; not paid yet or "
        "no project: the label stays and a note tells the person why",
        promote,
        repeat="the label is gone once promoted; the note's marker carries the edit's time",
        catch_up="promoted by the scheduled triage while the label is on the tracking "
        "issue (a refused promote is named and the run exits 1)",
        min_access="promote_min_access_level",
        acting="promoting",
        alone=True,
        catch_up_plan=promote_later,
    ),
    Trigger(
        "sentiment::*",
        "tracking",
        "triage that account now",
        triage_now,
        repeat=_SAME_PLAN,
        catch_up=_READS + " (CSM sentiment)",
    ),
    Trigger(
        "triage::needed",
        "tracking",
        "triage that account now (opens its triage issue)",
        triage_now,
        repeat=_SAME_PLAN,
        catch_up=_READS,
    ),
    Trigger(
        "lifecycle::will-churn",
        "tracking",
        "triage that account now: opens the will-churn checklist; the label is taken back "
        "until its last box is ticked, with a note telling the person why",
        triage_now,
        repeat=_SAME_PLAN + "; the note's marker carries the edit's time",
        catch_up=_READS + " and opens the checklist",
        after=take_back_early_will_churn,
    ),
    Trigger(
        "escalation::requested",
        "tracking",
        "open the confidential escalation issue now when the account is red; otherwise "
        "nothing, and the label stays",
        escalate_now,
        repeat="the escalation issue is found by its marker: one per account",
        catch_up=_READS + " every day and escalates once the account is red",
    ),
    Trigger(
        "triage::resolved",
        "triage",
        "close it with the resolution format (refused with a note while the account is "
        "red or triage is still asked for, and not concluded lost)",
        close_triage,
        repeat="the issue is closed: ignored",
        catch_up=_READS + " on the open triage issue and closes it",
        while_open=True,
    ),
    Trigger(
        "escalation::resolved",
        "escalation",
        "close it with the closure questions (refused with a note while red and still requested)",
        close_escalation,
        repeat="the issue is closed: ignored",
        catch_up=_READS + " on the open escalation issue and closes it",
        while_open=True,
    ),
)


def markdown(settings: Settings) -> str:
    return table_rules.markdown(TABLE, settings.taxonomy)


# ---------------------------------------------------------------- who may


def guard(
    gateway: Gateway, settings: Settings, row: Trigger, iid: int, label: str, slug: str
) -> Plan | None:
    """None when anyone may add the row's label or its adder has the rule's access;
    else the plan taking the label back with a note saying why (promote_guard.py)."""
    if row.min_access is None:
        return None
    minimum = getattr(settings.rules, row.min_access)
    project = project_of(settings, row.issue)
    return refusal(
        gateway,
        project,
        iid,
        label,
        slug,
        minimum,
        acting=row.acting,
        rule=row.min_access,
        kind=row.issue,
    )


# ---------------------------------------------------------------- catch-up


def _issues_of(ctx: TriageContext, kind: str) -> Mapping[str, Mapping[str, Any]]:
    return {"tracking": ctx.tracking, "triage": ctx.triage, "escalation": ctx.escalations}[kind]


def catch_up(ctx: TriageContext, plan: Plan, slug: str) -> None:
    """The rows whose label is still on the account's issue: their webhook was missed
    (or there is none); the scheduled run does what `gl-csm react` would. Planned
    after the account's triage, so a refused action (not paid yet) names itself and
    leaves the triage done. Rows without ``catch_up_plan`` are read by the triage."""
    tax = ctx.settings.taxonomy
    for row in TABLE:
        if row.catch_up_plan is None:
            continue
        issue = _issues_of(ctx, row.issue).get(slug)
        labels = list((issue or {}).get("labels") or [])
        names = [n for n in labels if (k := table_rules.key_of(n, tax, TABLE)) and row.matches(k)]
        if issue is None or not names:
            continue
        label = names[0]
        try:
            refused = guard(ctx.gateway, ctx.settings, row, issue["iid"], label, slug)
            if refused is not None:
                plan.extend(refused)
                continue
            planned = row.catch_up_plan(ctx, slug, issue, label)
        except Exception as exc:  # noqa: BLE001 - one account never stops the others
            # No account on the failure: exit 1 naming it, without skipping the triage.
            plan.fail(None, f"{slug}: {label} not done: {failure_text(exc)}")
            continue
        plan.extend(planned)
