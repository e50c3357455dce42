"""A story's transcript: day by day, what people did, what the bot said, and what each
reader then sees in GitLab — only what changed since the day before.

* The internal projects (the account team): every bot issue (found by its hidden
  marker) — the tracking issue's card, triage, escalation, reminder, checklist issues —
  with new notes and whom they mention (the people GitLab notifies).
* The collaboration projects (the customer): the project (path, description, members),
  its files on the default branch, its issues and milestones.
* The report (managers): the rows naming the story's accounts.

What people do not read is normalised out: hidden HTML comments (the bot's markers,
stamps, digests and hashes) are removed, the sandbox URL is https://gitlab.example.com,
and the story's temporary folder is left out. A new text is shown whole; a changed one
as a diff, or whole when the diff would be longer than the text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from gl_csm import markers
from gl_csm.gitlab.paths import enc
from gl_csm.plan import Outcome
from gl_csm.sandbox.markdown import mentioned_names

if TYPE_CHECKING:
    from tests.stories.world import World

BASE = "https://gitlab.example.com"
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BLANKS = re.compile(r"\n{3,}")
INTERNAL = {
    "customer-success/accounts": "accounts",
    "customer-success/account-triage": "triage",
    "customer-success/escalations": "escalations",
}
#: Bot issues of the internal projects that are not an account's story.
_NOT_SHOWN = ("report",)


def visible(text: str | None) -> str:
    """What a reader sees of a Markdown text: hidden comments removed."""
    shown = _COMMENT.sub("", text or "")
    shown = "\n".join(line.rstrip() for line in shown.splitlines())
    return _BLANKS.sub("\n\n", shown).strip("\n")


def bar(text: str, prefix: str = "  | ") -> str:
    return "\n".join((prefix + line).rstrip() for line in text.splitlines()) or prefix.rstrip()


@dataclass
class Seen:
    """What a reader last saw of one thing (an issue, a file, a project)."""

    head: dict[str, str]
    body: str
    notes: dict[int, str] = field(default_factory=dict)


class Transcript:
    def __init__(self, title: str, world: World) -> None:
        self.world = world
        self.lines: list[str] = [f"# {title}", ""]
        self.seen: dict[str, Seen] = {}
        self.people_notes: dict[int, str] = {}
        self.report_rows = ""
        self.today: date | None = None

    # -- normalising ------------------------------------------------------------------

    def clean(self, text: str) -> str:
        text = text.replace(self.world.gateway.url.rstrip("/"), BASE)
        text = text.replace("http://localhost", BASE)
        return text.replace(f"{self.world.root}/", "")

    # -- what happens -----------------------------------------------------------------

    def day(self, today: date) -> None:
        self.today = today
        self.lines += ["", f"## {today.isoformat()} ({today.strftime('%a')})", ""]

    def event(self, text: str) -> None:
        first, _, rest = text.partition("\n")
        self.lines.append(f"- {first}")
        if rest:
            self.lines.append(rest)

    def bot(self, what: str, outcome: Outcome) -> str:
        """One command's result as CI prints it: exit code, count, notes and errors."""
        n = len(outcome.changes)
        head = f"bot: {what}: exit {outcome.exit_code}, {n} change{'s' if n != 1 else ''}"
        if n == 0 and not outcome.notes and not outcome.failures and "triage" in what:
            return head  # a quiet day: not written to the transcript
        self.event(head)
        lines = [self.clean(x) for x in outcome.notes]
        lines += [f"error: {self.clean(f.to_text())}" for f in outcome.failures]
        for line in lines:
            self.lines.append(bar(line, "    "))
        return "\n".join([head, *lines])

    def person_note(self, project: str, iid: int, who: str) -> None:
        notes = self.world.reader.notes(project, iid)
        newest = max(notes, key=lambda n: n["id"])
        self.people_notes[newest["id"]] = who

    def report(self, report: str) -> None:
        slugs = sorted(p.stem for p in (self.world.root / "accounts").glob("*.yml"))
        rows = report_rows(report, self.world.account_names(), slugs)
        if rows != self.report_rows:
            self.lines += ["", "### report (summary issue): rows of this story's accounts", ""]
            if self.report_rows:
                self.lines.append(_diff_or_whole(self.report_rows, rows))
            else:
                self.lines.append(bar(rows))
            self.report_rows = rows

    # -- what readers see ---------------------------------------------------------------

    def snapshot(self) -> None:
        """Append what changed for each reader since the last snapshot."""
        now = dict(self._internal())
        now.update(self._customer())
        for key, (label, seen) in now.items():
            before = self.seen.get(key)
            text = self._changes(label, before, seen)
            if text:
                self.lines += ["", text]
            self.seen[key] = seen

    def _internal(self) -> dict[str, tuple[str, Seen]]:
        out: dict[str, tuple[str, Seen]] = {}
        reader = self.world.reader
        for project, short in INTERNAL.items():
            for issue in reader.issues(project, state="all"):
                found = markers.markers_in(issue.get("description"))
                if not found or found[0][0] in _NOT_SHOWN:
                    continue
                kind, key = found[0]
                label = f"{short}#{issue['iid']} ({kind} issue of {key}) · {issue['title']}"
                out[f"{project}#{issue['iid']}"] = (label, self._issue(project, issue))
        return out

    def _customer(self) -> dict[str, tuple[str, Seen]]:
        out: dict[str, tuple[str, Seen]] = {}
        reader = self.world.reader
        settings = self.world.settings
        assert settings.groups is not None
        for group in (settings.groups.pre_sales, settings.groups.post_sales):
            for project in reader.list(
                f"/groups/{enc(group)}/projects", f"projects of {group}", include_subgroups="true"
            ):
                pid, path = project["id"], project["path_with_namespace"]
                where = f"customer project {path}"
                members = sorted(
                    f"{m['username']} ({_level(m['access_level'])})" for m in reader.members(pid)
                )
                head = {"path": path, "members": ", ".join(members)}
                out[f"project{pid}"] = (
                    f"{where}: the project",
                    Seen(head, visible(self.clean(project.get("description") or ""))),
                )
                branch = project.get("default_branch") or "main"
                for entry in reader.tree(pid, branch):
                    if entry["type"] != "blob":
                        continue
                    text = reader.file_text(pid, entry["path"], branch) or ""
                    out[f"project{pid}:{entry['path']}"] = (
                        f"{where}: file {entry['path']}",
                        Seen({}, visible(self.clean(text))),
                    )
                milestones = sorted(reader.milestones(pid, state="all"), key=lambda m: m["id"])
                for m in milestones:
                    head = {
                        "state": m["state"],
                        "dates": f"{m.get('start_date') or '-'} .. {m.get('due_date') or '-'}",
                    }
                    out[f"project{pid}:milestone{m['id']}"] = (
                        f"{where}: milestone {m['title']}",
                        Seen(head, visible(self.clean(m.get("description") or ""))),
                    )
                for issue in reader.issues(pid, state="all"):
                    out[f"project{pid}#{issue['iid']}"] = (
                        f"{where}: issue #{issue['iid']} · {issue['title']}",
                        self._issue(pid, issue),
                    )
        return out

    def _issue(self, project: str | int, issue: dict[str, Any]) -> Seen:
        head = {
            "state": issue["state"],
            "labels": ", ".join(sorted(issue.get("labels") or [])),
            "assignees": ", ".join(a["username"] for a in issue.get("assignees") or []),
            "due": issue.get("due_date") or "",
            "milestone": (issue.get("milestone") or {}).get("title", ""),
        }
        if issue.get("confidential"):
            head["confidential"] = "yes"
        notes = {
            n["id"]: n["body"]
            for n in self.world.reader.notes(project, issue["iid"])
            if not n.get("system")
        }
        return Seen(head, visible(self.clean(issue.get("description") or "")), notes)

    def _changes(self, label: str, before: Seen | None, now: Seen) -> str:
        out: list[str] = []
        if before is None:
            out.append(f"### {label} — new")
            out += [f"{k}: {v}" for k, v in now.head.items() if v]
            if now.body:
                out += ["", bar(now.body)]
                mentions = self._mentions(now.body)
                if mentions:
                    out.append(f"(mentions {mentions})")
        else:
            heads = [
                _head_change(k, before.head.get(k, ""), v)
                for k, v in now.head.items()
                if before.head.get(k, "") != v
            ]
            if heads or before.body != now.body:
                out.append(f"### {label} — changed")
                out += heads
            if before.body != now.body:
                out += ["", _diff_or_whole(before.body, now.body)]
                mentions = self._mentions(now.body, before.body)
                if mentions:
                    out.append(f"(newly mentions {mentions})")
        old_notes = before.notes if before else {}
        for nid in sorted(now.notes):
            body = now.notes[nid]
            if old_notes.get(nid) == body:
                continue
            if not out:
                out.append(f"### {label}")
            by = self._author(nid, body)
            mentions = self._mentions(body, old_notes.get(nid, ""))
            told = f", mentions {mentions}" if mentions else ""
            verb = "edited" if nid in old_notes else "new"
            out += ["", f"{verb} note by {by}{told}:", bar(visible(self.clean(body)))]
        return "\n".join(out)

    def _author(self, note_id: int, body: str) -> str:
        if note_id in self.people_notes:
            return self.people_notes[note_id]
        return "the bot" if "gl-csm" in body else "a person"

    def _mentions(self, text: str, before: str = "") -> str:
        old = {n.lower() for n in mentioned_names(visible(before))}
        store = self.world.sandbox.store
        names = []
        for name in mentioned_names(visible(text)):
            if name.lower() in old:
                continue
            known = store.user_by_username(name) is not None
            names.append(f"@{name}" + ("" if known else " (not a GitLab user)"))
        return ", ".join(names)

    def render(self) -> str:
        """The transcript; a day on which nothing happened and no reader saw a change
        is one line."""
        text = "\n".join(self.lines)
        text = re.sub(
            r"^(## \S+ \(\w+\))\n+(?=## |\Z)", r"\1: nothing new\n\n", text, flags=re.MULTILINE
        )
        return _BLANKS.sub("\n\n", text).rstrip("\n") + "\n"


def _level(level: int) -> str:
    return {10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer", 40: "Maintainer",
            50: "Owner"}.get(level, str(level))  # fmt: skip


def _head_change(key: str, old: str, new: str) -> str:
    if key in ("labels", "members"):
        a = {x.strip() for x in old.split(",") if x.strip()}
        b = {x.strip() for x in new.split(",") if x.strip()}
        said = [f"+{x}" for x in sorted(b - a)] + [f"-{x}" for x in sorted(a - b)]
        return f"{key}: {' '.join(said)}"
    return f"{key}: {old or '(none)'} -> {new or '(none)'}"


def _diff_or_whole(old: str, new: str) -> str:
    a, b = old.splitlines(), new.splitlines()
    diff = [
        line
        for line in difflib.unified_diff(a, b, lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]
    if len(diff) >= len(b):
        return "text now:\n" + bar(new)
    return "diff:\n" + bar("\n".join(diff))


def report_rows(report: str, names: list[str], slugs: Sequence[str] = ()) -> str:
    """The report's headline, and in each section the rows naming one of ``names``
    (with the table's header row) and the list items naming one of ``names`` or
    ``slugs`` (failures and warnings say the account's slug)."""
    out: list[str] = []
    lines = report.splitlines()
    headline = next((x for x in lines if re.match(r"^\d+ accounts?[: ]", x)), "")
    if headline:
        out.append(headline)
    section, header = "", ""
    shown_section = ""
    said = [re.compile(rf"\b{re.escape(s)}\b") for s in slugs]
    for i, line in enumerate(lines):
        if line.startswith("#"):
            section, header = line, ""
            continue
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = line
            continue
        row = line.startswith("|") and any(n in line for n in names)
        item = line.startswith("- ") and (
            any(n in line for n in names) or any(r.search(line) for r in said)
        )
        if row or item:
            if shown_section != section:
                out += ["", section] + ([header] if row else [])
                shown_section = section
            out.append(line)
    return "\n".join(out)
