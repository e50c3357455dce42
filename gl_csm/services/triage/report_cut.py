"""The summary issue's long tables, cut to `rules.report.max_rows` rows each.

GitLab caps an issue description at 1,048,576 characters (app/models/concerns/issuable.rb
DESCRIPTION_LENGTH_MAX) and a table of thousands of rows is not read: each table of the
summary issue keeps its most important rows (the order is the table's own, most
important first) and says in one line how many accounts (and how much ARR) it leaves
out, and where they all are. The counts and ARR of the report's head and of the
"Revenue (ARR) by health" section count every account: only rows are cut. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any

from gl_csm.domain.portfolio import arr_of, is_pre_sales, money
from gl_csm.templates import Trusted

#: Where every account left out of a table is (`gl-csm report --html`, and the shard
#: results the report job keeps as artifacts: ci/triage.yml).
EVERY_ACCOUNT = "every account is in the dashboard and in the triage-*.json job artifacts"


#: The line's words when the final guard left no row at all.
LEFT_OUT = "they are left out to keep this issue within GitLab's size limit"


@dataclass(frozen=True)
class Cut:
    """One table's rows as shown: the first ``len(rows)`` of ``total``, and the line
    that counts the rest (empty when nothing is left out)."""

    rows: tuple[Mapping[str, Any], ...]
    total: int
    line: Trusted


def arr_sum(rows: Sequence[Mapping[str, Any]]) -> float:
    """The ARR of ``rows`` as the report counts it: pre-sales accounts left out (a table
    row keeps the number as ``arr_value``, its ``arr`` being in words)."""
    return sum(
        (r["arr_value"] if "arr_value" in r else arr_of(r)) or 0.0
        for r in rows
        if not is_pre_sales(r)
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def more_words(n: int, one: str, many: str, kept: Sized) -> str:
    """ "…and 12 more accounts" under the rows shown; "12 accounts" when none is."""
    return f"…and {_plural(n, 'more ' + one, 'more ' + many)}" if kept else _plural(n, one, many)


def cut_accounts(rows: Sequence[Mapping[str, Any]], limit: int, order: str) -> Cut:
    """The first ``limit`` of ``rows`` (already in the table's order, most important
    first); ``order`` says that order ("the most ARR first")."""
    kept, rest = tuple(rows[:limit]), rows[limit:]
    if not rest:
        return Cut(kept, len(rows), Trusted(""))
    what = (
        f"the table shows {_plural(len(kept), 'account', 'accounts')}, {order}"
        if kept
        else LEFT_OUT
    )
    return Cut(
        kept,
        len(rows),
        Trusted(
            f"{more_words(len(rest), 'account', 'accounts', kept)} (ARR "
            f"{money(arr_sum(rest))}): {what}; {EVERY_ACCOUNT}."
        ),
    )


def cut_chosen(
    rows: Sequence[Mapping[str, Any]],
    limit: int,
    importance: Callable[[Mapping[str, Any]], Any],
    line: Callable[[Sequence[Mapping[str, Any]], int], str],
) -> Cut:
    """Rows read in their own order (a CSM table, by name): the ``limit`` most important
    by ``importance`` (ascending) are kept in that order; ``line(rest, kept)`` words the
    rest."""
    if len(rows) <= limit:
        return Cut(tuple(rows), len(rows), Trusted(""))
    ranked = sorted(range(len(rows)), key=lambda i: importance(rows[i]))
    chosen = set(ranked[:limit])
    kept = tuple(r for i, r in enumerate(rows) if i in chosen)
    rest = [r for i, r in enumerate(rows) if i not in chosen]
    return Cut(kept, len(rows), Trusted(line(rest, len(kept))))


def cut_lines(
    lines: Sequence[str], limit: int, what: tuple[str, str], where: str
) -> tuple[list[str], Trusted]:
    """A list cut to ``limit`` lines and the line that counts the rest; ``what`` is the
    noun, one and many (the bot's words, as ``where``: never registry text)."""
    if len(lines) <= limit:
        return list(lines), Trusted("")
    kept = list(lines[:limit])
    return kept, Trusted(f"{more_words(len(lines) - limit, *what, kept)}: {where}.")
