"""`gl-csm react --payload FILE` (SPEC 5 React): act now on one GitLab Issue Hook.

GitLab sends an Issue Hook (doc/user/project/integrations/webhook_events.md, "Issue
events") when a person changes an issue; ``changes.labels.previous/current`` tell which
labels this event added. Only labels *added by this event* trigger anything, and only
on the bot's own issues (found by marker, ARCHITECTURE rule 3):

* ``sentiment::*`` or ``triage::needed`` added on a tracking issue -> triage that
  account now (the same plan as the daily `gl-csm triage`, restricted to the account);
* ``escalation::requested`` on a tracking issue -> the same triage, which opens the
  confidential escalation issue when the account is red (SPEC 5 Triage: "when it is
  red and ... the escalation::requested label is set"); when it is not red nothing is
  done and the output says so; the label stays and is an input of every daily run, so
  the escalation opens the day the account turns red;
* ``triage::resolved`` on an open triage issue -> the account's triage, whose closing
  logic posts the resolution format and closes the issue;
* ``action::promote`` on a tracking issue -> `gl-csm promote` for the account, then the
  label is removed so it does not trigger again.

The payload only routes: what is done is planned from what GitLab has now (the issue is
read back, its marker and labels checked), so a forged or stale payload can at most make
the bot do early what its scheduled run would do anyway. "A payload delivered twice acts
once": every plan is idempotent, and a repeated `triage::resolved` (issue already
closed) or `action::promote` (label already removed) is ignored.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import ConfigError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Outcome, Plan, dry_run_outcome
from gl_csm.registry import load_registry

# lifecycle::will-churn added by a person: triage opens the checklist (moves/will_churn.py).
TRIAGE_TRIGGERS = ("triage::needed", "lifecycle::will-churn")
TRIAGE_SCOPE = "sentiment::"
ESCALATE = "escalation::requested"
RESOLVED = "triage::resolved"
PROMOTE = "action::promote"
WILL_CHURN = "lifecycle::will-churn"
#: Marker kind of the note telling a person what became of a label they added.
LABEL_NOTE = "label-note"


class PayloadError(UsageError):
    """The payload is not a GitLab Issue Hook we can read (exit 2, nothing written)."""


@dataclass(frozen=True)
class IssueEvent:
    """What gl-csm needs of an Issue Hook: where, which issue, which labels it added."""

    project: str
    iid: int
    added: tuple[str, ...]
    confidential: bool = False
    action: str | None = None
    #: Who changed the issue (the hook's ``user.username``), told when a label is kept
    #: from them; and when (``changes.updated_at.current``): one note per person's edit.
    user: str | None = None
    updated: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.project}#{self.iid}"


@dataclass
class Reaction:
    """The plan for one payload, and one line saying what triggered it or why not."""

    plan: Plan = field(default_factory=Plan)
    status: str = "ignored"  # "acted" (a plan was built) or "ignored"
    reason: str = ""
    account: str | None = None
    trigger: str | None = None
    event: IssueEvent | None = None
    health: str | None = None  # the account's health color, when triage was planned
    lifecycle: str | None = None  # the account's lifecycle as the planned triage leaves it

    @property
    def line(self) -> str:
        return f"{self.status if self.status == 'ignored' else 'trigger'}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "reaction": {
                "status": self.status,
                "reason": self.reason,
                "account": self.account,
                "trigger": self.trigger,
                "issue": self.event.ref if self.event else None,
            }
        }


# ---------------------------------------------------------------- the payload


def _expect(ok: bool, source: str, what: str) -> None:
    if not ok:
        raise PayloadError(f"{source}: expected a GitLab Issue Hook payload: {what}")


def _label_names(items: Any) -> list[str]:
    """Label titles of a hook's label list (objects with ``title``; names tolerated)."""
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        name = item.get("title") if isinstance(item, Mapping) else item
        if isinstance(name, str) and name:
            out.append(name)
    return out


def parse_event(data: Any, source: str = "payload") -> IssueEvent | None:
    """The IssueEvent of a decoded payload, None when it is another kind of hook.

    Raises :class:`PayloadError` naming ``source`` and what was expected when the
    payload is not a JSON object or an issue payload lacks the fields GitLab always
    sends (``project.path_with_namespace``, ``object_attributes.iid``).
    """
    _expect(isinstance(data, Mapping), source, "a JSON object")
    kind = data.get("object_kind")
    _expect(isinstance(kind, str), source, 'an "object_kind" string')
    if kind != "issue":
        return None
    project = data.get("project")
    _expect(
        isinstance(project, Mapping) and isinstance(project.get("path_with_namespace"), str),
        source,
        '"project.path_with_namespace"',
    )
    attrs = data.get("object_attributes")
    _expect(
        isinstance(attrs, Mapping)
        and isinstance(attrs.get("iid"), int)
        and not isinstance(attrs.get("iid"), bool),
        source,
        '"object_attributes.iid" (an integer)',
    )
    changes = data.get("changes") or {}
    _expect(isinstance(changes, Mapping), source, '"changes" as an object')
    labels = changes.get("labels") or {}
    _expect(isinstance(labels, Mapping), source, '"changes.labels" as {previous, current}')
    previous = set(_label_names(labels.get("previous")))
    added = tuple(n for n in _label_names(labels.get("current")) if n not in previous)
    return IssueEvent(
        project=project["path_with_namespace"],
        iid=attrs["iid"],
        added=added,
        confidential=bool(attrs.get("confidential"))
        or data.get("event_type") == "confidential_issue",
        action=attrs.get("action") if isinstance(attrs.get("action"), str) else None,
        user=_text((data.get("user") or {}).get("username")),
        updated=_text((changes.get("updated_at") or {}).get("current")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def load_payload(path: Path | None) -> Any:
    """The decoded payload file (GitLab's TRIGGER_PAYLOAD file variable); ``None``
    reads standard input (`--payload -`)."""
    source = f"--payload {path if path is not None else '-'}"
    try:
        text = sys.stdin.read() if path is None else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{source}: cannot read the payload file: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"{source}: expected a GitLab Issue Hook payload (JSON), got invalid JSON: {exc}"
        ) from None


# ---------------------------------------------------------------- routing


def _ignored(reason: str, event: IssueEvent | None = None, account: str | None = None) -> Reaction:
    return Reaction(status="ignored", reason=reason, event=event, account=account)


def _same_path(a: str, b: str) -> bool:
    # GitLab paths are case-insensitive in URLs; the hook sends the canonical case.
    return a.strip("/").lower() == b.strip("/").lower()


def _canonical_added(event: IssueEvent, settings: Settings) -> dict[str, str]:
    """Canonical name -> GitLab name of the taxonomy labels this event added."""
    tax = settings.taxonomy
    out: dict[str, str] = {}
    for name in event.added:
        canonical = tax.canonical(name)
        if canonical:
            out[canonical] = name
    return out


def plan_react(
    gateway: Gateway, settings: Settings, today: date, data: Any, source: str = "payload"
) -> Reaction:
    """Route one decoded payload to the plan it calls for (SPEC 5 React)."""
    event = parse_event(data, source)
    if event is None:
        kind = data.get("object_kind")
        return _ignored(f"a {kind!r} hook, not an Issue Hook: gl-csm reacts to issue labels")
    _, projects = settings.require_layout("react")
    if not event.added:
        return _ignored(f"{event.ref}: this event added no label", event)
    if _same_path(event.project, projects.accounts):
        kind = "tracking"
    elif _same_path(event.project, projects.triage):
        kind = "triage"
    else:
        return _ignored(
            f"{event.ref}: not in {projects.accounts} or {projects.triage}, "
            f"where the bot's tracking and triage issues live",
            event,
        )
    added = _canonical_added(event, settings)
    if not added:
        return _ignored(
            f"{event.ref}: added {', '.join(event.added)}, none of them a gl-csm label", event
        )
    issue = gateway.issue(projects.accounts if kind == "tracking" else projects.triage, event.iid)
    if issue is None:
        return _ignored(f"{event.ref}: the issue no longer exists", event)
    keys = [key for k, key in markers.markers_in(issue.get("description")) if k == kind]
    if not keys:
        return _ignored(f"{event.ref}: not a gl-csm {kind} issue (no gl-csm:{kind} marker)", event)
    slug = keys[0]
    try:
        load_registry(settings.accounts_dir, [slug])
    except UsageError:
        # A bad file of this account is not "unknown": its triage then names the problem.
        return _ignored(f"{event.ref}: account {slug!r} is not in the registry", event, slug)
    current = set(issue.get("labels") or [])
    still = {c: n for c, n in added.items() if n in current}
    if not still:
        return _ignored(
            f"{event.ref}: {', '.join(added.values())} no longer on the issue "
            f"(removed since, or already handled)",
            event,
            slug,
        )
    if kind == "triage":
        return _on_triage_issue(gateway, settings, today, event, issue, still, slug)
    return _on_tracking_issue(gateway, settings, today, event, issue, still, slug)


def _on_triage_issue(
    gateway: Gateway,
    settings: Settings,
    today: date,
    event: IssueEvent,
    issue: Mapping[str, Any],
    added: Mapping[str, str],
    slug: str,
) -> Reaction:
    if RESOLVED not in added:
        names = ", ".join(added.values())
        return _ignored(f"{event.ref}: {names} on a triage issue triggers nothing", event, slug)
    if issue.get("state") != "opened":
        return _ignored(
            f"{event.ref}: the triage issue of {slug} is already closed (a repeated delivery)",
            event,
            slug,
        )
    reaction = _triage_now(gateway, settings, today, slug)
    reaction.trigger = added[RESOLVED]
    reaction.event = event
    # The triage plan decides (services/triage/triage_issue.py): a still-red account
    # whose assessed lifecycle is not will-churn is refused, with a note saying why.
    _, projects = settings.require_layout("react")
    where = f"{projects.triage}#{event.iid} "  # OpenIssue.where of this triage issue
    closes = any(
        c.action == "close-issue" and c.target.startswith(where) for c in reaction.plan.changes
    )
    reaction.reason = f"{added[RESOLVED]} added on {event.ref}, the triage issue of {slug}: " + (
        "close it with the resolution format"
        if closes
        else "refused, the account is still red and not concluded lost (will-churn): "
        "the label is removed and a note says why"
    )
    return reaction


def _on_tracking_issue(
    gateway: Gateway,
    settings: Settings,
    today: date,
    event: IssueEvent,
    issue: Mapping[str, Any],
    added: Mapping[str, str],
    slug: str,
) -> Reaction:
    where = f"{event.ref}, the tracking issue of {slug}"
    if PROMOTE in added:
        reaction = _promote_now(gateway, settings, today, slug, event, added[PROMOTE])
        if reaction.status == "ignored":
            return reaction
        others = [n for c, n in added.items() if c != PROMOTE]
        if others:
            reaction.plan.notes.append(
                f"also added: {', '.join(others)}; the scheduled triage reads them"
            )
        reaction.reason = f"{added[PROMOTE]} added on {where}: promote the account"
        return reaction
    triggers = [n for c, n in added.items() if c.startswith(TRIAGE_SCOPE) or c in TRIAGE_TRIGGERS]
    if triggers:
        reaction = _triage_now(gateway, settings, today, slug, event.iid)
        reaction.reason = f"{', '.join(triggers)} added on {where}: triage the account now"
        reaction.trigger, reaction.event = triggers[0], event
        if WILL_CHURN in added and reaction.lifecycle != "will-churn":
            # SPEC 4: the label waits for the last box of the checklist; the triage's
            # tracking update takes it back, and the person who added it is told why.
            _tell(
                reaction.plan,
                gateway,
                settings,
                event,
                slug,
                added[WILL_CHURN],
                "is taken back for now: it is set once every step of the account's "
                "will-churn checklist (handbook 002) is ticked. The checklist is opened "
                "for the CSM in this project; when its last box is ticked, the daily "
                "triage sets the label",
            )
        return reaction
    if ESCALATE in added:
        reaction = _triage_now(gateway, settings, today, slug, event.iid)
        reaction.trigger, reaction.event = added[ESCALATE], event
        color = reaction.health
        if color != "red":
            # SPEC 5 Triage: an escalation opens when the account is red and requested.
            return _ignored(
                f"{added[ESCALATE]} added on {where}, but the account's health is "
                f"{color or 'not assessed'}, not red: no escalation opened; the label stays "
                f"and the daily triage opens the escalation when the account turns red",
                event,
                slug,
            )
        reaction.reason = f"{added[ESCALATE]} added on {where}: escalate now (the account is red)"
        return reaction
    names = ", ".join(added.values())
    return _ignored(f"{names} on a tracking issue triggers nothing", event, slug)


# ---------------------------------------------------------------- the plans


def _triage_now(
    gateway: Gateway, settings: Settings, today: date, slug: str, tracking_iid: int | None = None
) -> Reaction:
    """The account's part of the daily triage: one code path, so react does early
    exactly what the scheduled run would do (ARCHITECTURE rule 2). ``tracking_iid``: the
    hook's issue when it is the tracking issue (already read and verified by marker)."""
    from gl_csm.services.triage.run import plan_triage

    run = plan_triage(gateway, settings, today, only=slug, tracking_iid=tracking_iid)
    row = run.accounts.get(slug) or {}
    return Reaction(
        plan=run.plan,
        status="acted",
        account=slug,
        health=row.get("health"),
        lifecycle=row.get("lifecycle"),
    )


def _promote_now(
    gateway: Gateway, settings: Settings, today: date, slug: str, event: IssueEvent, label: str
) -> Reaction:
    """`gl-csm promote` for the account, then the trigger label is removed; when the
    person who added the label may not promote, the label is taken back with a note."""
    from gl_csm.services.collaboration.promote import plan_promote_on_label
    from gl_csm.services.promote_guard import refusal

    _, projects = settings.require_layout("react")
    minimum = settings.rules.promote_min_access_level
    refused = refusal(gateway, projects.accounts, event.iid, label, slug, minimum)
    if refused is not None:
        reaction = Reaction(plan=refused, status="acted", account=slug, trigger=label)
        reaction.event = event
        return reaction
    try:
        plan = plan_promote_on_label(gateway, settings, slug, today, event.iid, label)
    except ConfigError:
        raise  # a bad registry or config (e.g. `project:` naming an internal project): exit 2
    except UsageError as exc:
        # A reason not to act (not paid yet, no project): ignored with the reason, exit 0
        # (SPEC 7: 2 is for bad usage or config); the label stays for a later run, and
        # the person who added it is told why on the issue (not only in a job log).
        reaction = _ignored(f"{label} on the tracking issue of {slug}: {exc}", event, slug)
        _tell(
            reaction.plan,
            gateway,
            settings,
            event,
            slug,
            label,
            f"is not acted on yet: {exc}. The label stays; the promotion runs once that "
            f"is done (the daily triage retries it)",
        )
        return reaction
    return Reaction(plan=plan, status="acted", account=slug, trigger=label, event=event)


def _tell(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    event: IssueEvent,
    slug: str,
    label: str,
    what: str,
) -> None:
    """Plan one note on the tracking issue telling the person who added ``label`` what
    became of it and why. One per edit of theirs (the marker carries the edit's time),
    so a repeated delivery writes nothing."""
    _, projects = settings.require_layout("react")
    canonical = settings.taxonomy.canonical(label) or "label"
    stamp = "".join(ch for ch in (event.updated or "") if ch.isdigit()) or "0"
    token = markers.token(LABEL_NOTE, f"{slug}/{canonical}/{stamp}")
    notes = gateway.notes(projects.accounts, event.iid)
    if any(token in (n.get("body") or "") for n in notes):
        return
    who = f"@{event.user} " if event.user else ""
    body = f"{markers.marker(LABEL_NOTE, token.split(':', 2)[2])}\n{who}`{label}` {what}.\n"
    plan.add(
        "create-note",
        f"{projects.accounts}#{event.iid} (tracking issue of {slug})",
        f"tell {event.user or 'the person'} why {label} {what.split(':')[0]}",
        lambda gw, _r: gw.create_note(projects.accounts, event.iid, body, token),
        account=slug,
    )


def react(
    gateway: Gateway,
    settings: Settings,
    today: date,
    data: Any,
    *,
    dry_run: bool = False,
    source: str = "payload",
) -> tuple[Reaction, Outcome]:
    """Plan, then apply unless ``dry_run``; the reason line is the outcome's first note."""
    reaction = plan_react(gateway, settings, today, data, source)
    reaction.plan.notes.insert(0, reaction.line)
    outcome = dry_run_outcome(reaction.plan) if dry_run else reaction.plan.apply(gateway)
    return reaction, outcome
