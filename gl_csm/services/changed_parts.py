"""What changed between the old and the new text of a bot-written Markdown part (the
account card, the bot's part of a reminder, triage or escalation issue), named in the
reader's words, so every rewrite the plan lists says why (README "Triage": "each write
names its cause").

The names come from the text itself, line by line (difflib over the lines): a heading
``### Health: green`` is "health", a fact ``- **Renewal:** 2027-03-31`` is "renewal", a
row of a table with a ``measure`` column is that measure ("meeting cadence"), a row of a
two-column fact table is its first cell ("renewal date"), a list item under a label
line (``Open risks:``) is that label, one saying a measure's colour is that measure
("- Support is yellow (...)" is "support").
A fact whose lines are the same but for their colour turned that colour as the days
passed (the readings are dates): "meeting cadence turned yellow"; one the same but for
its durations ("after 29 months") is "(time passed)": a date rule, not a registry
change. Names are given once each, in the text's order, so the same cause reads the
same on every account.

Pure functions: no GitLab, no templates; the callers hand the two texts they already
have (no extra read).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gl_csm.services.card_data import DATA_RE

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BOLD_FACT = re.compile(r"^\s*[-*+]\s+\*\*([^*]+?):?\*\*:?\s")
_TASK = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s")
_ITEM = re.compile(r"^\s*[-*+]\s+(.*)$")
_LABELLED = re.compile(r"^([A-Za-z][A-Za-z /'-]{0,40}):\s")
_IS_COLOUR = re.compile(r"^(.{1,40}?) is (?:red|yellow|green|unknown)\b")
_PAREN = re.compile(r"\s*\([^)]*\)")
_STAMP = re.compile(r"<!-- gl-csm (?:inputs|generated|card)[^>]*-->")
_DURATION = re.compile(r"\b\d+ (?:day|week|month|year)s?\b")
_COLOUR = re.compile(r"\b(red|yellow|green|unknown|no data)\b")
#: The last cell of a measure row: its weight in its group ("30%", "-").
_WEIGHT = re.compile(r"\|\s*(?:\d+(?:\.\d+)?%|-)\s*\|\s*$")

#: The card's hidden data keys (services/card_data.py), in the reader's words.
DATA_WORDS: Mapping[str, str] = {
    "issues": "the recorded issues",
    "notes": "the recorded notes",
    "reminders_seen": "the recorded reminders",
    "evidence": "evidence from the collaboration project",
    "passage": "the recorded stage passage",
    "team": "the recorded team",
    "sentiment": "the recorded sentiment",
    "since": "the recorded sentiment",
    "health_since": "the health history",
    "score_trend": "the health history",
    "measure_changes": "the health history",
    "posted": "the record of the notes posted",
    "reminders": "the recorded reminders",
    "checklist": "the recorded checklist",
    "promote_asked": "the record of the promote question",
}

#: Labels of the card whose own words are not the reader's.
_WORDS: Mapping[str, str] = {
    "history": "the health history",
    "health history": "the health history",
    "health": "the health score",
    "over N days": "the health history",
    "the group table": "the health score",
    "open issues": "the open issues linked",
}

#: Names that follow from others (listed last).
_FOLLOWS = frozenset(("the health score", "the health history"))

#: Sections of the card named whole: their lines are one fact to the reader.
_WHOLE = frozenset(
    ("priority", "will churn", "evidence from GitLab", "time to value", "the open issues linked")
)


def _words(label: str) -> str:
    """A label as a name: parentheticals out, dates and figures as DATE and N, each
    capitalised word lowered (acronyms and names as written: ARR, CSM, GitLab)."""
    text = _PAREN.sub("", label).strip().strip("*").strip()
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "DATE", text)
    text = re.sub(r"\b\d+\b", "N", text).rstrip(":. ")
    name = " ".join(
        w.lower() if w[:1].isupper() and (w[1:].islower() or len(w) == 1) else w
        for w in text.split()
    )
    return _WORDS.get(name, name)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


@dataclass(frozen=True)
class _Where:
    """What a line sits under: its heading, the label line of its list, its table."""

    heading: str | None
    label: str | None
    header: tuple[str, ...] | None


def _places(lines: list[str]) -> list[_Where]:
    """For each line, the heading, list label and table header it belongs to."""
    out: list[_Where] = []
    heading: str | None = None
    label: str | None = None
    header: tuple[str, ...] | None = None
    previous = ""
    for line in lines:
        found = _HEADING.match(line)
        if found:
            heading, label, header = found.group(1).split(":", 1)[0], None, None
        elif line.startswith("|"):
            if header is None and not previous.startswith("|"):
                header = tuple(_cells(line))
        else:
            header = None
            if not _ITEM.match(line):
                # A label line ("Open risks:") heads the list below it; any other line,
                # a blank one included, ends it.
                label = line.strip() if line.strip().endswith(":") else None
        out.append(_Where(heading, label, header))
        previous = line
    return out


def _row_key(cells: list[str], header: tuple[str, ...]) -> str | None:
    """The row's own name: its measure, or the fact a header-less table holds."""
    lowered = [h.lower() for h in header]
    if "measure" in lowered and len(cells) > lowered.index("measure"):
        return _words(cells[lowered.index("measure")])
    if header and not header[0] and cells:
        return _words(cells[0])
    return None


def _name(line: str, where: _Where) -> str | None:
    """The name of one changed line (None: a blank line or a table's own rule)."""
    stripped = line.strip()
    if not stripped or re.fullmatch(r"\|?[-| :]+\|?", stripped):
        return None
    section = _words(where.heading) if where.heading else None
    if section in _WHOLE:
        return section
    found = _HEADING.match(line)
    if found:
        return _words(found.group(1).split(":", 1)[0])
    if stripped.startswith("|"):
        if where.header is None or tuple(_cells(line)) == where.header:
            return _words(f"the {where.heading or 'table'}")
        key = _row_key(_cells(line), where.header)
        if key is not None:
            return key
        return _words(f"the {where.header[0].strip('* ') or 'fact'} table")
    if _TASK.match(line):
        return "the checklist"
    bold = _BOLD_FACT.match(line)
    if bold:
        return _words(bold.group(1))
    item = _ITEM.match(line)
    if item:
        colour = _IS_COLOUR.match(item.group(1))
        if colour:
            return _words(colour.group(1))
        if where.label:
            return _words(where.label)
        labelled = _LABELLED.match(item.group(1))
        if labelled:
            date_of = " date" if section == "next dates" else ""
            return _words(labelled.group(1)) + date_of
        return section or "the text"
    labelled = _LABELLED.match(stripped)
    if labelled:
        return _words(labelled.group(1))
    if stripped.endswith(":"):
        return _words(stripped)
    return section or "the introduction"


def _timeless(line: str) -> str:
    """A line without its durations, colours and weight (a measure's share of its group
    follows which measures have data): two lines the same but for those differ only as
    the days passed (the readings the bot shows are dates)."""
    return _COLOUR.sub("C", _DURATION.sub("N", _WEIGHT.sub("| W |", line)))


def _aged(name: str, old: list[str], new: list[str]) -> str:
    """The name of a fact whose lines changed: "meeting cadence turned yellow" when only
    its colour moved, "license utilization (time passed)" when only its durations did,
    "CI use went stale" when its data became too old (date rules, not a registry
    change), else the name alone."""
    if not old or not new:
        return name
    if any(" is stale" in line for line in new) and not any(" is stale" in x for x in old):
        return f"{name} went stale"  # the data's own date is older than the rule allows
    if sorted(_WEIGHT.sub("|", x) for x in old) == sorted(_WEIGHT.sub("|", x) for x in new):
        return "the health score"  # only its weight: another measure's data came or went
    if sorted(map(_timeless, old)) != sorted(map(_timeless, new)):
        return name
    was = {c for line in old for c in _COLOUR.findall(line)}
    turned = [c for line in new for c in _COLOUR.findall(line) if c not in was]
    return f"{name} turned {turned[0]}" if turned else f"{name} (time passed)"


def _data_names(old: str, new: str) -> list[str]:
    """The hidden data keys that differ, in the reader's words."""

    def data(text: str) -> dict[str, object]:
        found = DATA_RE.search(text)
        if not found:
            return {}
        try:
            value = json.loads(found.group(1))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    a, b = data(old), data(new)
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in ("card", "text"))
    return _unique(DATA_WORDS.get(k, "the hidden data") for k in keys)


def _unique(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def changed_names(old: str | None, new: str, *, most: int = 6) -> list[str]:
    """What differs between two versions of a bot-written text, in the reader's words,
    in the order of the new text (at most ``most``, then "N more"). The visible text
    first; only when it is the same, the hidden data; when that is the same too,
    nothing (the caller names its own cause)."""
    old_lines = _STAMP.sub("", DATA_RE.sub("", old or "")).split("\n")
    new_lines = _STAMP.sub("", DATA_RE.sub("", new)).split("\n")
    old_at, new_at = _places(old_lines), _places(new_lines)
    order: dict[str, int] = {}
    lines: dict[str, tuple[list[str], list[str]]] = {}
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for j in range(j1, j2):
            name = _name(new_lines[j], new_at[j])
            if name is not None:
                order.setdefault(name, j)
                lines.setdefault(name, ([], []))[1].append(new_lines[j])
        for i in range(i1, i2):
            name = _name(old_lines[i], old_at[i])
            if name is not None:
                order.setdefault(name, j1)
                lines.setdefault(name, ([], []))[0].append(old_lines[i])
    names = [_aged(n, *lines[n]) for n in sorted(order, key=lambda n: (order[n], n))]
    # What follows from the rest (a measure moves the score, the score its history)
    # comes last: the cause leads, and is what a long list keeps.
    names = sorted(_unique(names), key=lambda n: n in _FOLLOWS) or _data_names(old or "", new)
    if len(names) > most:
        names = [*names[: most - 1], f"{len(names) - most + 1} more"]
    return names


def because(what: str, names: Iterable[str], fallback: str) -> str:
    """A plan detail: ``what`` and, after a colon, the names of what changed (or
    ``fallback`` when nothing visible differs: the cause the caller knows)."""
    listed = list(names)
    return f"{what}: {', '.join(listed) if listed else fallback}"
