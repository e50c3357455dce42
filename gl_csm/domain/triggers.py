"""Reaction triggers as rows of one table (SPEC 5 React; ARCHITECTURE "each kind of rule
lives in one table"): the pure part. A row says which label, added on which kind of the
bot's issues, does what, who may add it, how a repeated delivery is recognised and how
the scheduled triage catches it up when the delivery was missed. The rows and their
actions are in :mod:`gl_csm.services.triggers`; `react`, `serve` (which calls `react`)
and the daily `triage` read that one table, and the README's table is rendered from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gl_csm.domain.taxonomy import Taxonomy

#: The kinds of bot issues a trigger can be on, each in its internal project.
ISSUE_KINDS = ("tracking", "triage", "escalation")
ANYONE = "anyone who can label the issue"


@dataclass(frozen=True)
class Trigger:
    """One row. ``label`` is canonical (read through the taxonomy's renames);
    ``scope::*`` is any label of the scope. ``act`` plans the reaction (it gets a
    :class:`gl_csm.services.triggers.Fired`); rows with the same ``act`` added by one
    event are one reaction. ``catch_up_plan`` is None when the account's scheduled
    triage reads the label itself; else the daily run calls it for an account whose
    issue still carries the label."""

    label: str
    issue: str
    action: str
    act: Callable[[Any], Any]
    repeat: str
    catch_up: str
    #: The rule (``rules.<name>``) giving the minimum access level of the person who
    #: added the label (GitLab's label events say who); None: anyone who can label.
    min_access: str | None = None
    #: What the label makes the bot do, as the note taking it back says ("without ...").
    acting: str = "acting on it"
    #: Acts alone when one event adds it with other trigger labels (the scheduled
    #: triage reads the others).
    alone: bool = False
    #: Acts only while the issue is open: a closed issue means the label was handled.
    while_open: bool = False
    #: Planned after the reaction, with it: ``after(fired, reaction, label)``.
    after: Callable[[Any, Any, str], None] | None = None
    #: ``catch_up_plan(ctx, slug, issue, label) -> Plan`` (see above).
    catch_up_plan: Callable[[Any, str, Mapping[str, Any], str], Any] | None = None

    def __post_init__(self) -> None:
        if self.issue not in ISSUE_KINDS:
            raise ValueError(f"trigger {self.label}: issue must be one of {ISSUE_KINDS}")

    @property
    def scope(self) -> str | None:
        """``sentiment::`` for a ``sentiment::*`` row, else None."""
        return self.label[:-1] if self.label.endswith("::*") else None

    @property
    def who(self) -> str:
        if self.min_access is None:
            return ANYONE
        return f"at least `rules.{self.min_access}` on the issue's project"

    def name(self, taxonomy: Taxonomy) -> str:
        """The team's GitLab name of the label (a scope row: its canonical pattern)."""
        if self.scope is not None:
            return self.label
        return team_name(taxonomy, self.label)

    def matches(self, key: str) -> bool:
        """Whether the canonical label ``key`` fires this row."""
        return key.startswith(self.scope) if self.scope is not None else key == self.label


def team_name(taxonomy: Taxonomy, canonical: str) -> str:
    """The taxonomy's name for ``canonical``; a label outside the taxonomy (a row a team
    added) is its own name."""
    try:
        return taxonomy.name(canonical)
    except KeyError:
        return canonical


def key_of(name: str, taxonomy: Taxonomy, table: Iterable[Trigger]) -> str | None:
    """The canonical key of a GitLab label name: the taxonomy's, or a row's own label
    outside the taxonomy; None for a label that is not gl-csm's."""
    canonical = taxonomy.canonical(name)
    if canonical is not None:
        return canonical
    for row in table:
        if row.scope is None and row.label == name and team_name(taxonomy, row.label) == name:
            return row.label
    return None


def fired(
    table: Sequence[Trigger], kind: str, added: Mapping[str, str]
) -> tuple[list[Trigger], list[str]]:
    """The rows one event fires on an issue of ``kind`` (``added``: key -> GitLab name,
    in the event's order): the first row of the table that matches and every other
    matching row with the same action; and their GitLab names in the event's order."""
    rows = [r for r in table if r.issue == kind and any(r.matches(k) for k in added)]
    if not rows:
        return [], []
    group = [r for r in rows if r.act is rows[0].act]
    names = [n for k, n in added.items() if any(r.matches(k) for r in group)]
    return group, names


def markdown(table: Sequence[Trigger], taxonomy: Taxonomy) -> str:
    """The table as the README shows it (a test keeps the README equal to it)."""
    lines = [
        "| label | added on | action | who may | a repeated delivery | delivery missed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in table:
        cells = (
            f"`{row.name(taxonomy)}`",
            f"{row.issue} issue",
            row.action,
            row.who,
            row.repeat,
            row.catch_up,
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
