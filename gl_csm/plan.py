"""Plan, then apply (ARCHITECTURE rule 2).

A service reads GitLab, compares it with the desired state and returns a :class:`Plan`:
the list of :class:`Change` s that would make them match, each saying what it creates
or updates and why. ``--dry-run`` prints the plan; otherwise :meth:`Plan.apply` runs
the very same changes in order. Idempotency follows: when nothing differs, the plan is
empty and nothing is written.

Changes are grouped by account: when one change of an account fails, the rest of that
account's changes are skipped (they may depend on it) and the other accounts go on;
the run then exits 1 naming the failure (SPEC 7 exit codes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gl_csm.errors import GlCsmError, PartialWrite

#: Results of earlier changes by key, for changes that need them (a new project's id).
Results = dict[str, Any]
Runner = Callable[[Any, Results], Any]


def failure_text(exc: Exception) -> str:
    """What to tell the user about a failed account.

    Our own errors already say what and where. Anything else is a gl-csm bug; it still
    must not stop the other accounts of a 2,000-account run, so it is named plainly.
    """
    if isinstance(exc, GlCsmError):
        return str(exc)
    return f"unexpected error (a gl-csm bug, please report it): {type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Change:
    """One write: what it does, to what, and why; ``run`` performs it."""

    action: str
    target: str
    detail: str
    run: Runner | None = field(default=None, compare=False, repr=False)
    key: str | None = None
    account: str | None = None
    customer_visible: bool = False

    def to_json(self) -> dict[str, str]:
        detail = self.detail + (" [customer-visible]" if self.customer_visible else "")
        return {"action": self.action, "target": self.target, "detail": detail}

    def to_text(self) -> str:
        mark = " [customer-visible]" if self.customer_visible else ""
        return f"  {self.action:<16} {self.target}: {self.detail}{mark}"


@dataclass(frozen=True)
class Failure:
    """Why an account (or the run) could not be planned or applied."""

    account: str | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        return {"account": self.account, "message": self.message}

    def to_text(self) -> str:
        return f"{self.account}: {self.message}" if self.account else self.message


@dataclass
class Plan:
    """The changes a command would make, and the accounts it could not plan."""

    changes: list[Change] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        action: str,
        target: str,
        detail: str,
        run: Runner,
        *,
        key: str | None = None,
        account: str | None = None,
        customer_visible: bool = False,
    ) -> Change:
        change = Change(action, target, detail, run, key, account, customer_visible)
        self.changes.append(change)
        return change

    def fail(self, account: str | None, message: str) -> None:
        self.failures.append(Failure(account, message))

    def extend(self, other: Plan) -> None:
        self.changes.extend(other.changes)
        self.failures.extend(other.failures)
        self.notes.extend(other.notes)

    def apply(
        self,
        gateway: Any,
        results: Results | None = None,
        *,
        on_change: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run every change in order; a failure skips the rest of its account.
        ``on_change`` is called once per change (done, failed or skipped): progress."""
        results = {} if results is None else results
        done: list[Change] = []
        failures = list(self.failures)
        broken: set[str | None] = {f.account for f in self.failures if f.account}
        for change in self.changes:
            if on_change is not None:
                on_change()
            if change.account in broken and change.account is not None:
                continue
            try:
                value = change.run(gateway, results) if change.run else None
            except PartialWrite as partial:
                # Written, but not all of it took (dropped assignees): the object exists
                # and later changes may link it; the run still exits 1 naming it.
                what = f"{change.action} {change.target}: {partial}"
                failures.append(Failure(change.account, what))
                value = partial.value
            except Exception as exc:  # noqa: BLE001 - one account never stops the others
                failures.append(
                    Failure(change.account, f"{change.action} {change.target}: {failure_text(exc)}")
                )
                if change.account is None:
                    # A change that belongs to no account is shared by all: stop here.
                    break
                broken.add(change.account)
                continue
            if change.key:
                results[change.key] = value
            done.append(change)
        return Outcome(done, failures, list(self.notes))


@dataclass(frozen=True)
class Outcome:
    """What a run did (or, for a dry run, would do) and what failed."""

    changes: list[Change]
    failures: list[Failure]
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def render(
        self,
        fmt: str,
        *,
        dry_run: bool,
        stats: dict[str, int] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Text for a person, or the JSON object of SPEC section 7."""
        if fmt == "json":
            doc: dict[str, Any] = {"changes": [c.to_json() for c in self.changes]}
            if self.failures:
                doc["errors"] = [f.to_json() for f in self.failures]
            if extra:
                doc.update(extra)
            if stats is not None:
                doc["stats"] = stats
            return json.dumps(doc, indent=2, sort_keys=False)
        lines: list[str] = []
        head = "Plan (dry run, nothing written)" if dry_run else "Done"
        if self.changes:
            lines.append(f"{head}: {len(self.changes)} change(s)")
            lines.extend(c.to_text() for c in self.changes)
        else:
            lines.append(f"{head}: no changes" if dry_run else "Nothing to change.")
        lines.extend(self.notes)
        if stats is not None:
            lines.append(
                f"API calls: {stats['reads'] + stats['writes']} "
                f"(reads {stats['reads']}, writes {stats['writes']})"
            )
        return "\n".join(lines)


def dry_run_outcome(plan: Plan) -> Outcome:
    """The outcome a dry run reports: every planned change, nothing applied."""
    return Outcome(list(plan.changes), list(plan.failures), list(plan.notes))
