"""What `gl-csm react` works with: the Issue Hook event it read and the reaction it
planned (SPEC 5 React). Shared by the payload routing (services/react.py) and the
trigger table's actions (services/triggers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gl_csm.plan import Plan


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


def ignored(reason: str, event: IssueEvent | None = None, account: str | None = None) -> Reaction:
    return Reaction(status="ignored", reason=reason, event=event, account=account)
