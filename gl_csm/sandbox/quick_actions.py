"""Quick actions in issue descriptions and notes (doc/user/project/quick_actions.md).

Commands are extracted by :func:`extract`, a port of GitLab's own extractor
(lib/gitlab/quick_actions/extractor.rb, ``commands_regex``), and interpreted here into
the same update parameters the REST API takes; the caller applies them with
``issuables.apply_update``. ``commands_changes`` in a note answer uses these
parameter names (doc/api/notes.md, "Create new issue note": a note made only of
commands answers 202 with ``commands_changes`` and ``summary``).

Implemented with effect: close, reopen, label/labels, unlabel/remove_label,
relabel, assign, unassign, due, remove_due_date, confidential, milestone,
remove_milestone, title, lock, unlock. Other commands GitLab knows are still
recognised (their line is removed from the text, as GitLab does) but have no
effect in the sandbox.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from gl_csm.sandbox.labels_model import visible_labels
from gl_csm.sandbox.store import Record, Store

_EFFECTIVE = frozenset(
    {
        "close",
        "reopen",
        "label",
        "labels",
        "unlabel",
        "remove_label",
        "relabel",
        "assign",
        "unassign",
        "due",
        "remove_due_date",
        "confidential",
        "milestone",
        "remove_milestone",
        "title",
        "lock",
        "unlock",
    }
)
# Commands GitLab knows that the sandbox only strips (no effect here).
_INERT = frozenset(
    {
        "todo",
        "done",
        "subscribe",
        "unsubscribe",
        "award",
        "react",
        "estimate",
        "remove_estimate",
        "spend",
        "spent",
        "remove_time_spent",
        "weight",
        "clear_weight",
        "epic",
        "remove_epic",
        "iteration",
        "remove_iteration",
        "health_status",
        "clear_health_status",
        "copy_metadata",
        "duplicate",
        "move",
        "clone",
        "relate",
        "unrelate",
        "blocks",
        "blocked_by",
        "promote_to",
        "promote_to_incident",
        "severity",
        "create_merge_request",
        "approve",
        "unapprove",
        "merge",
        "draft",
        "ready",
        "rebase",
        "target_branch",
        "reviewer",
        "assign_reviewer",
        "request_review",
        "unassign_reviewer",
        "remove_reviewer",
        "submit_review",
        "zoom",
        "remove_zoom",
        "page",
        "escalate",
        "invite_email",
        "remove_email",
        "add_contacts",
        "remove_contacts",
        "type",
        "set_parent",
        "remove_parent",
        "add_child",
        "remove_child",
        "timeline",
        "status",
        "q",
        "board_move",
        "confidential_note",
        "checkin_reminder",
        "cc_email",
    }
)
COMMAND_NAMES = _EFFECTIVE | _INERT

_LABEL_REF = re.compile(r'~"(?P<quoted>[^"]+)"|~(?P<plain>[^\s,~"]+)|(?P<bare>[^\s,~"]+)')
_USER_REF = re.compile(r"@?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)")


@dataclass
class Outcome:
    text: str
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    commands: int = 0

    @property
    def only_commands(self) -> bool:
        return self.commands > 0 and self.text.strip() == ""


# lib/gitlab/quick_actions/extractor.rb, ``commands_regex``, flags ``mix``: Ruby's ``m`` is
# Python's DOTALL (``^``/``$`` are always line anchors in Ruby, hence MULTILINE). The
# alternatives are tried in this order at each position, so a block that starts first
# wins. Quirks kept on purpose, because GitLab has them: only a *closing* line of exactly
# three backticks ends a code block (a ```` fence protects nothing by itself); a ~~~
# fence protects nothing; "inline code" runs from a line start, across lines, to the
# last backtick that ends a line after another backtick. Ruby's ``\s`` is ASCII.
_NAMES = "|".join(re.escape(n) for n in sorted(COMMAND_NAMES, key=lambda n: (-len(n), n)))
_EXTRACTOR = re.compile(
    rf"""
      (?P<code>  ^```  .+?  \n```$ )
    | (?P<inline_code>  ^.*`\n*  .+?  \n*`$ )
    | (?P<html>  ^<[^>]+?>\n  .+?  \n<\/[^>]+?>$ )
    | (?P<quote>  ^>>>  .+?  \n>>>$ )
    | (?:
        ^\/
        (?P<cmd>{_NAMES})
        (?: [ ] (?P<arg>[^\n]*) )?
        (?: [ \t\r\n\f\v]*\n | $ )
      )
    """,
    re.MULTILINE | re.DOTALL | re.IGNORECASE | re.VERBOSE,
)

_COMMAND_LINE = re.compile(r"^/", re.MULTILINE)


def extract(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(text without its command lines, [(command, argument)]), as GitLab's
    ``Extractor#extract_commands``: ``\r`` deleted first, the result right-stripped."""
    text = text.replace("\r", "")
    if not _COMMAND_LINE.search(text):
        # Only a line starting with "/" can hold a command; every other match of the
        # extractor gives its text back unchanged, so a text without one is only stripped.
        return text.rstrip(), []
    commands: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        if match.group("cmd") is None:
            return match.group(0)
        commands.append((match.group("cmd").lower(), (match.group("arg") or "").strip()))
        return ""

    remaining = _EXTRACTOR.sub(replace, text)
    return remaining.rstrip(), commands


def interpret(
    store: Store,
    project: Record,
    kind: str,
    item: Record | None,
    text: str,
    actor_id: int,
    today: dt.date,
) -> Outcome:
    """Extract and interpret commands; ``item`` is None while an issue is being created."""
    remaining, commands = extract(text)
    out = Outcome(text=remaining, commands=len(commands))
    noun = "issue" if kind == "Issue" else "merge request"
    state = item["state"] if item else None
    current_labels = list(item["label_ids"]) if item else []
    for name, arg in commands:
        if name in _INERT:
            continue
        ok = _one(
            store, project, kind, noun, state, current_labels, name, arg, actor_id, today, out
        )
        if not ok:
            out.errors.append(f"Could not apply {name} command.")
    return out


def _one(
    store: Store,
    project: Record,
    kind: str,
    noun: str,
    state: str | None,
    current_labels: list[int],
    name: str,
    arg: str,
    actor_id: int,
    today: dt.date,
    out: Outcome,
) -> bool:
    p = out.params
    if name == "close":
        if state != "opened":
            return False
        p["state_event"] = "close"
        out.messages.append(f"Closed this {noun}.")
    elif name == "reopen":
        if state != "closed":
            return False
        p["state_event"] = "reopen"
        out.messages.append(f"Reopened this {noun}.")
    elif name in ("label", "labels", "unlabel", "remove_label", "relabel"):
        return _label_action(store, project, name, arg, out)
    elif name in ("assign", "unassign"):
        return _assign_action(store, name, arg, actor_id, out)
    elif name == "due":
        if kind != "Issue":
            return False
        day = parse_due(arg, today)
        if day is None:
            return False
        p["due_date"] = day.isoformat()
        out.messages.append(f"Set the due date to {day.strftime('%B')} {day.day}, {day.year}.")
    elif name == "remove_due_date":
        if kind != "Issue":
            return False
        p["due_date"] = None
        out.messages.append("Removed the due date.")
    elif name == "confidential":
        if kind != "Issue":
            return False
        p["confidential"] = True
        out.messages.append("Made this issue confidential.")
    elif name == "milestone":
        title = arg.strip()
        title = title[1:] if title.startswith("%") else title
        title = title.strip('"')
        ms = next((m for m in project["milestones"] if m["title"] == title), None)
        if ms is None:
            return False
        p["milestone_id"] = ms["id"]
        out.messages.append(f"Set the milestone to %{ms['title']}.")
    elif name == "remove_milestone":
        p["milestone_id"] = None
        out.messages.append("Removed the milestone.")
    elif name == "title":
        if not arg:
            return False
        p["title"] = arg
        out.messages.append(f'Changed the title to "{arg}".')
    elif name in ("lock", "unlock"):
        p["discussion_locked"] = name == "lock"
        out.messages.append(f"{'Locked' if name == 'lock' else 'Unlocked'} the discussion.")
    else:  # pragma: no cover - every effective name is handled above
        return False
    return True


def _label_action(store: Store, project: Record, name: str, arg: str, out: Outcome) -> bool:
    """/label, /unlabel and /relabel: labels added, removed or replaced."""
    p = out.params
    if name in ("label", "labels"):
        labels = _labels(store, project, arg)
        if not labels:
            return False
        p.setdefault("add_label_ids", []).extend(lb["id"] for lb in labels)
        out.messages.append(f"Added {_refs(labels)} {_plural('label', labels)}.")
    elif name in ("unlabel", "remove_label"):
        if not arg:
            p["label_ids"] = []
            out.messages.append("Removed all labels.")
            return True
        labels = _labels(store, project, arg)
        if not labels:
            return False
        p.setdefault("remove_label_ids", []).extend(lb["id"] for lb in labels)
        out.messages.append(f"Removed {_refs(labels)} {_plural('label', labels)}.")
    elif name == "relabel":
        labels = _labels(store, project, arg)
        if not labels:
            return False
        p["label_ids"] = [lb["id"] for lb in labels]
        out.messages.append(f"Replaced all labels with {_refs(labels)} {_plural('label', labels)}.")
    return True


def _assign_action(store: Store, name: str, arg: str, actor_id: int, out: Outcome) -> bool:
    """/assign and /unassign: people added to or removed from the assignees."""
    p = out.params
    users = _users(store, arg, actor_id)
    if name == "assign":
        if not users:
            return False
        p["assignee_ids"] = list(
            dict.fromkeys(p.get("assignee_ids", []) + [u["id"] for u in users])
        )
        out.messages.append("Assigned " + " and ".join("@" + u["username"] for u in users) + ".")
    else:
        p["assignee_ids"] = (
            []
            if not arg
            else [uid for uid in p.get("assignee_ids", []) if uid not in {u["id"] for u in users}]
        )
        out.messages.append("Removed assignee(s).")
    return True


def _labels(store: Store, project: Record, arg: str) -> list[Record]:
    """Existing labels referenced as ``~name``, ``~"two words"``, ``~id`` or bare names.

    Quick actions never create labels: unknown names are ignored.
    """
    visible = visible_labels(store, project)
    found: list[Record] = []
    for match in _LABEL_REF.finditer(arg):
        ref = match.group("quoted") or match.group("plain") or match.group("bare")
        label = next((lb for lb in visible if lb["name"] == ref), None)
        if label is None and ref.isdigit():
            label = next((lb for lb in visible if lb["id"] == int(ref)), None)
        if label is not None and label not in found:
            found.append(label)
    return found


def _users(store: Store, arg: str, actor_id: int) -> list[Record]:
    users: list[Record] = []
    for token in arg.replace(",", " ").split():
        if token == "me":
            user: Record | None = store.users.get(actor_id)
        else:
            match = _USER_REF.fullmatch(token)
            user = store.user_by_username(match.group("name")) if match else None
        if user is not None and user not in users:
            users.append(user)
    return users


def parse_due(arg: str, today: dt.date) -> dt.date | None:
    text = arg.strip().lower()
    if text == "today":
        return today
    if text == "tomorrow":
        return today + dt.timedelta(days=1)
    match = re.fullmatch(r"in (\d+) (day|days|week|weeks)", text)
    if match:
        n = int(match.group(1)) * (7 if match.group(2).startswith("week") else 1)
        return today + dt.timedelta(days=n)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _refs(labels: list[Record]) -> str:
    return " ".join(
        f"~{lb['name']}" if re.fullmatch(r"[\w\-?.&:]+", lb["name"]) else f'~"{lb["name"]}"'
        for lb in labels
    )


def _plural(word: str, items: list[Any]) -> str:
    return word if len(items) == 1 else word + "s"
