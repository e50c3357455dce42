"""The bot's issues and notes of `gl-csm triage`, each planned once (found by marker):
creating a bot issue, posting a bot note, and an open triage / escalation issue with
its notes read once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.triage.context import TriageContext, day_of
from gl_csm.services.triage.tracking import render_template
from gl_csm.templates import Trusted


def _carried(notes: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Every (kind, key) marker carried by the notes."""
    out: set[tuple[str, str]] = set()
    for note in notes:
        out.update(markers.markers_in(note.get("body")))
    return out


def last_person_note(notes: Iterable[Mapping[str, Any]]) -> date | None:
    """The date of the last note a person wrote (not a system note, not a bot note)."""
    days = [
        day_of(n.get("created_at"))
        for n in notes
        if not n.get("system") and not markers.markers_in(n.get("body"))
    ]
    found = [d for d in days if d is not None]
    return max(found) if found else None


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
) -> None:
    """A bot note carrying marker (kind, key); ``iid_from`` takes the issue from the
    results of an earlier change (an issue created in this run)."""
    body = render_template(template, {"marker": Trusted(markers.marker(kind, key)), **context})
    token = markers.token(kind, key)

    def post(gw: Gateway, results: Results) -> dict:
        target = iid if iid is not None else results[iid_from]["iid"]  # type: ignore[index]
        return gw.create_note(project, target, body, token)

    where = f"{project}#{iid}" if iid is not None else f"{project} (issue opened in this run)"
    plan.add("create-note", where, detail, post, account=slug)


@dataclass
class OpenIssue:
    """An open triage or escalation issue of one account, its notes read once: the
    notes the bot posts on it (each once, found by marker) and its closing."""

    plan: Plan
    project: str
    issue: Mapping[str, Any]
    note_kind: str
    what: str  # "triage issue", for the plan's text
    slug: str
    notes: list[dict]

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
        return cls(
            plan, project, issue, note_kind, what, slug, ctx.gateway.notes(project, issue["iid"])
        )

    @property
    def iid(self) -> int:
        return int(self.issue["iid"])

    @property
    def where(self) -> str:
        return f"{self.project}#{self.iid} ({self.what} of {self.slug})"

    @property
    def labels(self) -> list[str]:
        return list(self.issue.get("labels") or [])

    @cached_property
    def carried(self) -> set[tuple[str, str]]:
        return _carried(self.notes)

    def posted(self, key: str) -> bool:
        return (self.note_kind, f"{self.slug}:{key}") in self.carried

    def note(self, key: str, template: str, context: Mapping[str, Any], detail: str) -> None:
        """A bot note keyed ``SLUG:key``, unless one of the notes already carries it."""
        if not self.posted(key):
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
            )

    def close(self, why: str) -> None:
        project, iid = self.project, self.iid
        self.plan.add(
            "close-issue",
            self.where,
            why,
            lambda gw, _r: gw.update_issue(project, iid, state_event="close"),
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
        description = body(results) if callable(body) else body
        data = {**fields, **ctx.users.assignees(gw, [assignee])}
        if milestone:
            data["milestone_id"] = ctx.milestones.id_for(gw, *milestone)
        return gw.create_issue(
            project, title, description, token, reuses_marker=reuses_marker, **data
        )

    if milestone:
        ctx.milestones.plan_missing(plan, ctx.gateway, *milestone, account or key)
    plan.add("create-issue", target, detail, create, key=result_key, account=account)
    return result_key
