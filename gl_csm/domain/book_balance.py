"""Book balance (SPEC 3): each CSM's P1 share per segment against the handbook target.

Pure: the callers decide which accounts count (assess: the registry; report: the
triage shards' rows) and how to show the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gl_csm.domain.rules import BookBalanceRules


@dataclass(frozen=True, slots=True)
class BookBalance:
    """P1 share of one CSM's book in one segment against the handbook target."""

    csm: str
    segment: str
    accounts: int
    p1: int
    p1_pct: float
    target: str  # e.g. "25-45%", "<= 20%", "" (informational)
    status: str  # ok | warn | info

    @property
    def target_words(self) -> str:
        """The target for prose ("at most 20%")."""
        return self.target.replace("<= ", "at most ")


def book_balances(
    books: Iterable[tuple[str, str, int]], rules: BookBalanceRules
) -> list[BookBalance]:
    """One row per (CSM, segment), sorted, from (csm, segment, priority) per account."""
    prios: dict[tuple[str, str], list[int]] = {}
    for csm, segment, priority in books:
        prios.setdefault((csm, segment), []).append(priority)
    result = []
    for (csm, segment), book in sorted(prios.items()):
        p1 = sum(1 for p in book if p == 1)
        pct = 100.0 * p1 / len(book)
        # handbook 001: strategic "roughly one third" P1; growth "no more than 20%".
        if segment == "strategic":
            target = f"{rules.strategic_p1_min_pct:g}-{rules.strategic_p1_max_pct:g}%"
            ok = rules.strategic_p1_min_pct <= pct <= rules.strategic_p1_max_pct
            status = "ok" if ok else "warn"
        elif segment == "growth":
            target = f"<= {rules.growth_p1_max_pct:g}%"
            status = "ok" if pct <= rules.growth_p1_max_pct else "warn"
        else:
            target, status = "", "info"
        result.append(BookBalance(csm, segment, len(book), p1, pct, target, status))
    return result
