"""`gl-csm react --payload FILE` (SPEC 5 React): act now on one GitLab Issue Hook.

GitLab sends an Issue Hook (doc/user/project/integrations/webhook_events.md, "Issue
events") when a person changes an issue; ``changes.labels.previous/current`` tell which
labels this event added. Only labels *added by this event* trigger anything, and only
on the bot's own issues (found by marker, ARCHITECTURE rule 3). Which label on which
kind of issue does what, who may add it and how a repeated delivery is recognised is
the trigger table (services/triggers.py); a label outside it is an ``ignored:`` line.

The payload only routes: what is done is planned from what GitLab has now (the issue is
read back, its marker and labels checked), so a forged or stale payload can at most make
the bot do early what its scheduled run would do anyway. "A payload delivered twice acts
once": every plan is idempotent, and a label no longer on the issue, or an issue a row
acts on only while open and now closed, is ignored.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain import triggers as table_rules
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Outcome, dry_run_outcome
from gl_csm.registry import load_registry
from gl_csm.services import triggers
from gl_csm.services.reaction import IssueEvent, Reaction, ignored

__all__ = ["IssueEvent", "PayloadError", "Reaction", "parse_event", "plan_react", "react"]


class PayloadError(UsageError):
    """The payload is not a GitLab Issue Hook we can read (exit 2, nothing written)."""


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


def _same_path(a: str, b: str) -> bool:
    # GitLab paths are case-insensitive in URLs; the hook sends the canonical case.
    return a.strip("/").lower() == b.strip("/").lower()


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _both(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def plan_react(
    gateway: Gateway, settings: Settings, today: date, data: Any, source: str = "payload"
) -> Reaction:
    """Route one decoded payload to the row of the trigger table it fires (SPEC 5 React)."""
    event = parse_event(data, source)
    if event is None:
        kind = data.get("object_kind")
        return ignored(f"a {kind!r} hook, not an Issue Hook: gl-csm reacts to issue labels")
    settings.require_layout("react")
    if not event.added:
        return ignored(f"{event.ref}: this event added no label", event)
    table = triggers.TABLE
    kinds = list(dict.fromkeys(row.issue for row in table))
    paths = {k: triggers.project_of(settings, k) for k in kinds}
    kind = next((k for k in kinds if _same_path(event.project, paths[k])), None)
    if kind is None:
        return ignored(
            f"{event.ref}: not in {_either(list(paths.values()))}, "
            f"where the bot's {_both(kinds)} issues live",
            event,
        )
    tax = settings.taxonomy
    added: dict[str, str] = {}  # canonical -> GitLab name, of gl-csm's labels
    for name in event.added:
        key = table_rules.key_of(name, tax, table)
        if key is not None:
            added[key] = name
    if not added:
        return ignored(
            f"{event.ref}: added {', '.join(event.added)}, none of them a gl-csm label", event
        )
    issue = gateway.issue(paths[kind], event.iid)
    if issue is None:
        return ignored(f"{event.ref}: the issue no longer exists", event)
    keys = [key for k, key in markers.markers_in(issue.get("description")) if k == kind]
    if not keys:
        return ignored(f"{event.ref}: not a gl-csm {kind} issue (no gl-csm:{kind} marker)", event)
    slug = keys[0]
    try:
        load_registry(settings.accounts_dir, [slug])
    except UsageError:
        # A bad file of this account is not "unknown": its triage then names the problem.
        return ignored(f"{event.ref}: account {slug!r} is not in the registry", event, slug)
    current = set(issue.get("labels") or [])
    still = {c: n for c, n in added.items() if n in current}
    if not still:
        return ignored(
            f"{event.ref}: {', '.join(added.values())} no longer on the issue "
            f"(removed since, or already handled)",
            event,
            slug,
        )
    rows, names = table_rules.fired(table, kind, still)
    if not rows:
        return ignored(
            f"{event.ref}: {', '.join(still.values())} on "
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} issue triggers nothing",
            event,
            slug,
        )
    return _act(gateway, settings, today, event, kind, issue, slug, rows, names, still)


def _act(
    gateway: Gateway,
    settings: Settings,
    today: date,
    event: IssueEvent,
    kind: str,
    issue: Mapping[str, Any],
    slug: str,
    rows: list[table_rules.Trigger],
    names: list[str],
    still: Mapping[str, str],
) -> Reaction:
    """The fired rows' action: the first row's guards (open issue, who may), its
    action, then each row's follow-up."""
    first = rows[0]
    if first.while_open and issue.get("state") != "opened":
        return ignored(
            f"{event.ref}: the {kind} issue of {slug} is already closed (a repeated delivery)",
            event,
            slug,
        )
    fired = triggers.Fired(
        gateway,
        settings,
        today,
        event,
        kind,
        issue,
        slug,
        tuple(names),
        _triage(gateway, settings, today, slug),
    )
    refused = triggers.guard(gateway, settings, first, event.iid, fired.label, slug)
    if refused is None:
        reaction = first.act(fired)
        for row in rows:
            if row.after is not None:
                for key, name in still.items():
                    if row.matches(key):
                        row.after(fired, reaction, name)
    else:
        reaction = Reaction(
            plan=refused,
            status="acted",
            account=slug,
            trigger=fired.label,
            event=event,
            reason=f"{fired.label} added on {fired.where}: taken back, added by a person "
            f"with less than rules.{first.min_access}",
        )
    others = [n for n in still.values() if n not in names]
    if first.alone and others and reaction.status == "acted":
        reaction.plan.notes.append(
            f"also added: {', '.join(others)}; the scheduled triage reads them"
        )
    return reaction


def _triage(
    gateway: Gateway, settings: Settings, today: date, slug: str
) -> Callable[[int | None], Reaction]:
    """The account's part of the daily triage: one code path, so react does early
    exactly what the scheduled run would do (ARCHITECTURE rule 2)."""

    def run(tracking_iid: int | None) -> Reaction:
        from gl_csm.services.triage.run import plan_triage

        triage = plan_triage(gateway, settings, today, only=slug, tracking_iid=tracking_iid)
        row = triage.accounts.get(slug) or {}
        return Reaction(
            plan=triage.plan,
            status="acted",
            account=slug,
            health=row.get("health"),
            lifecycle=row.get("lifecycle"),
        )

    return run


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
