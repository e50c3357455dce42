"""The bot's issues and notes of `gl-csm triage`, each planned once (found by marker):
creating a bot issue, posting a bot note, and an open triage / escalation issue with
what the bot needs from its notes.

What the bot needs from the notes of an open triage or escalation issue (the date of
the last note by a person, the bot notes already posted) is recorded in the tracking
card's hidden data, with the issue's ``user_notes_count`` it holds for. A
rerun reads the notes again only when the listing's count differs: a note added or
deleted by anyone changes it. ``updated_at`` is no such signal: it moves with every
label change, every system note (cross-references included,
app/services/system_notes/base_service.rb touches the noteable) and every write of the
bot itself, so comparing it would re-read, and rewrite the card, after each of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.card_data import card_value
from gl_csm.services.tracking import NOTES_KEY, render_template
from gl_csm.services.triage.context import TriageContext, day_of
from gl_csm.templates import Trusted


def _posted_keys(notes: Iterable[Mapping[str, Any]], kind: str, slug: str) -> set[str]:
    """The keys of the bot notes of ``kind`` about ``slug`` carried by the notes."""
    prefix = f"{slug}:"
    out: set[str] = set()
    for note in notes:
        if note.get(markers.BY_PERSON):
            continue  # a person quoting a bot note does not post it (markers.own_key)
        for found_kind, key in markers.markers_in(note.get("body")):
            if found_kind == kind and key.startswith(prefix):
                out.add(key[len(prefix) :])
    return out


def last_person_note(notes: Iterable[Mapping[str, Any]]) -> date | None:
    """The date of the last note a person wrote (not a system note, not a bot note)."""
    days = [
        day_of(n.get("created_at"))
        for n in notes
        if not n.get("system")
        and (n.get(markers.BY_PERSON) or not markers.markers_in(n.get("body")))
    ]
    found = [d for d in days if d is not None]
    return max(found) if found else None


def note_body(kind: str, key: str, template: str, context: Mapping[str, Any]) -> str:
    """The text of a bot note carrying marker (kind, key)."""
    return render_template(template, {"marker": Trusted(markers.marker(kind, key)), **context})


def plan_note(
    plan: Plan,
    project: str,
    iid: int | None,
    iid_from: str | None,
    kind: str,
    key: str,
    template: str,
    context: Mapping[str, Any],
    detail: str,
    slug: str,
    late: Callable[[Results], Mapping[str, Any]] | None = None,
) -> None:
    """A bot note carrying marker (kind, key); ``iid_from`` takes the issue from the
    results of an earlier change (an issue created in this run); ``late`` adds to the
    context what only those results hold (the link of an issue this run opened)."""
    body = None if late is not None else note_body(kind, key, template, context)
    token = markers.token(kind, key)

    def post(gw: Gateway, results: Results) -> dict:
        target = iid if iid is not None else results[iid_from]["iid"]  # type: ignore[index]
        text = body
        if text is None:
            assert late is not None
            text = note_body(kind, key, template, {**context, **late(results)})
        return gw.create_note(project, target, text, token)

    where = f"{project}#{iid}" if iid is not None else f"{project} (issue opened in this run)"
    plan.add("create-note", where, detail, post, account=slug)


_DATED = re.compile(r"^(?P<kind>.+):(?P<day>\d{4}-\d{2}-\d{2})$")


#: How far back from the latest key of a dated kind the card keeps its posted keys:
#: longer than any cadence (a severity or renewal change moves the period, and a period
#: asked again must still be known posted), short enough that the record stays bounded.
POSTED_WINDOW = timedelta(days=92)


def latest_posted(keys: Iterable[str]) -> set[str]:
    """The posted keys worth recording: of the keys dated by their period (an at-risk
    or escalation update, one per missed period) those within :data:`POSTED_WINDOW` of
    the latest of their kind, since the rules only ask for the current period (counted
    forward from the last note, domain/reminders.periodic_due); undated keys (a color
    told) all. Without this the card of an account a year in triage would carry a key
    for every week."""
    out: set[str] = set()
    dated: dict[str, list[date]] = {}
    for key in keys:
        found = _DATED.match(key)
        if found is None:
            out.add(key)
            continue
        try:
            dated.setdefault(found["kind"], []).append(date.fromisoformat(found["day"]))
        except ValueError:
            out.add(key)
    for kind, days in dated.items():
        newest = max(days)
        out |= {f"{kind}:{d.isoformat()}" for d in days if d >= newest - POSTED_WINDOW}
    return out


@dataclass(frozen=True)
class NoteFacts:
    """What the bot needs from an issue's notes, and the ``user_notes_count`` it holds for."""

    iid: int | None
    count: int
    last_person: date | None = None
    posted: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"iid": self.iid, "count": self.count}
        if self.last_person is not None:
            out["last"] = self.last_person.isoformat()
        if self.posted:
            out["posted"] = sorted(latest_posted(self.posted))
        return out

    @classmethod
    def from_json(cls, data: Any) -> NoteFacts | None:
        """The recorded facts, or None when the record is missing or unreadable."""
        if not isinstance(data, Mapping):
            return None
        iid, count, posted = data.get("iid"), data.get("count"), data.get("posted", [])
        if not isinstance(iid, int) or not isinstance(count, int) or not isinstance(posted, list):
            return None
        try:
            last = date.fromisoformat(data["last"]) if data.get("last") else None
        except (TypeError, ValueError):
            return None
        return cls(iid, count, last, frozenset(k for k in posted if isinstance(k, str)))


def recorded_facts(tracking: Mapping[str, Any] | None, role: str) -> NoteFacts | None:
    """The facts the tracking card records for the account's open issue of ``role``."""
    records = card_value((tracking or {}).get("description"), NOTES_KEY)
    return NoteFacts.from_json(records.get(role)) if isinstance(records, Mapping) else None


@dataclass
class OpenIssue:
    """An open triage or escalation issue of one account, with what the bot needs from
    its notes (recorded in the card, or read once): the notes the bot posts on it (each
    once, found by marker) and its closing."""

    plan: Plan
    project: str
    issue: Mapping[str, Any]
    note_kind: str
    what: str  # "triage issue", for the plan's text
    slug: str
    facts: NoteFacts
    planned: list[str] = field(default_factory=list)
    closing: bool = False

    @classmethod
    def read(
        cls,
        ctx: TriageContext,
        plan: Plan,
        project: str,
        issue: Mapping[str, Any],
        note_kind: str,
        what: str,
        slug: str,
    ) -> OpenIssue:
        """The issue with its note facts: recorded ones while the listing's
        ``user_notes_count`` still matches them, else from its notes (one listing)."""
        role = note_kind.removesuffix("-note")
        iid, count = int(issue["iid"]), int(issue.get("user_notes_count") or 0)
        facts = recorded_facts(ctx.tracking.get(slug), role)
        if facts is None or facts.iid != iid or facts.count != count:
            notes = ctx.gateway.notes(project, iid)
            facts = NoteFacts(
                iid, count, last_person_note(notes), frozenset(_posted_keys(notes, note_kind, slug))
            )
        found = cls(plan, project, issue, note_kind, what, slug, facts)
        ctx.open_issues.setdefault(slug, {})[role] = found
        return found

    @property
    def iid(self) -> int:
        return int(self.issue["iid"])

    @property
    def where(self) -> str:
        return f"{self.project}#{self.iid} ({self.what} of {self.slug})"

    @property
    def labels(self) -> list[str]:
        return list(self.issue.get("labels") or [])

    @property
    def last_person(self) -> date | None:
        """The date of the last note a person wrote on the issue."""
        return self.facts.last_person

    def posted(self, key: str) -> bool:
        return key in self.facts.posted or key in self.planned

    def after(self) -> NoteFacts | None:
        """The facts once this run's notes are posted (None when the run closes it)."""
        if self.closing:
            return None
        return NoteFacts(
            self.iid,
            self.facts.count + len(self.planned),
            self.facts.last_person,
            self.facts.posted | frozenset(self.planned),
        )

    def note(
        self,
        key: str,
        template: str,
        context: Mapping[str, Any],
        detail: str,
        late: Callable[[Results], Mapping[str, Any]] | None = None,
    ) -> None:
        """A bot note keyed ``SLUG:key``, unless one of the notes already carries it."""
        if not self.posted(key):
            self.planned.append(key)
            plan_note(
                self.plan,
                self.project,
                self.iid,
                None,
                self.note_kind,
                f"{self.slug}:{key}",
                template,
                context,
                detail,
                self.slug,
                late,
            )

    def close(self, why: str, resolved: str | None = None) -> None:
        """Close the issue; with ``resolved`` (the ``scope::resolved`` label a person set)
        the other labels of its scope go in the same update: GitLab Free does not make
        scoped labels exclusive (ee/app/services/ee/issuable_base_service.rb), so a closed
        issue would still say ``triage::open`` next to ``triage::resolved``."""
        self.closing = True
        project, iid = self.project, self.iid
        fields: dict[str, Any] = {"state_event": "close"}
        if resolved is not None:
            scope = resolved.rsplit("::", 1)[0]
            stale = [x for x in self.labels if x != resolved and x.rsplit("::", 1)[0] == scope]
            if stale:
                fields["remove_labels"] = ",".join(stale)
        self.plan.add(
            "close-issue",
            self.where,
            why,
            lambda gw, _r: gw.update_issue(project, iid, **fields),
            account=self.slug,
        )


def plan_bot_issue(
    ctx: TriageContext,
    plan: Plan,
    *,
    project: str,
    kind: str,
    key: str,
    title: str,
    body: str | Callable[[Results], str],
    fields: Mapping[str, Any],
    assignee: str | None,
    target: str,
    detail: str,
    account: str | None,
    milestone: tuple[str, date, date] | None = None,
    reuses_marker: bool = False,
) -> str:
    """Plan creating one bot issue carrying marker (kind, key), assigned to ``assignee``.

    User and milestone ids are resolved while the change runs (a no-op run reads none);
    ``body`` may depend on the results of earlier changes. Returns the results key.
    """
    token = markers.token(kind, key)
    result_key = f"{kind}:{key}"

    def create(gw: Gateway, results: Results) -> dict:
        if reuses_marker:
            # Re-read just before creating (two reactions a second apart both
            # planned "no open triage issue" and opened two): one GET, only when a
            # triage or escalation issue is about to be opened, which is rare.
            found = gw.find_issue_by_marker(project, token, state="opened")
            if found is not None:
                return found
        description = body(results) if callable(body) else body
        data = {**fields, **ctx.users.assignees(gw, [assignee])}
        if milestone:
            data["milestone_id"] = ctx.milestones.id_for(gw, *milestone)
        return gw.create_issue(
            project, title, description, token, reuses_marker=reuses_marker, converge=True, **data
        )

    if milestone:
        ctx.milestones.plan_missing(plan, ctx.gateway, *milestone, account or key)
    plan.add("create-issue", target, detail, create, key=result_key, account=account)
    return result_key


def note_records(ctx: TriageContext, slug: str, pending: Iterable[tuple[str, str]]) -> dict:
    """The card's record of the account's open triage / escalation issues after this
    run (:data:`~gl_csm.services.tracking.NOTES_KEY`). An issue this run opens
    has no notes; its iid is filled in from the plan results when the card is written
    (:meth:`~gl_csm.services.tracking.CardExtra.resolved`)."""
    out: dict[str, Any] = {}
    for role, found in ctx.open_issues.get(slug, {}).items():
        facts = found.after()
        if facts is not None:
            out[role] = facts.to_json()
    for role, _key in pending:
        if role in ("triage", "escalation") and role not in out:
            # Notes planned on the issue this run opens (TriageContext.notes_on_new).
            keys = frozenset(ctx.notes_on_new.get(slug, {}).get(role, ()))
            out[role] = NoteFacts(None, len(keys), None, keys).to_json()
    return out
