"""The parts of a collaboration project's files that say which phase it is in (SPEC 5
Promote): "Where we are" in the README, "Now: ..." in the instructions.

A template marks each such part with two hidden HTML comments (not shown by GitLab's
Markdown). They are the bot's own sections: when the project changes phase (promote,
or `verify --fix` on a project left behind), the text between them is replaced with
the new phase's, and everything people wrote outside them stays as it is. A person
who deletes the markers takes the section over: the bot then leaves the file alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BEGIN = "<!-- gl-csm phase: {phase} (this part changes with the phase; write outside it) -->"
END = "<!-- gl-csm phase end -->"
_SECTION = re.compile(
    r"<!-- gl-csm phase: (?P<phase>[a-z-]+) \(this part changes with the phase; write "
    r"outside it\) -->\n(?P<body>.*?)" + re.escape(END),
    re.DOTALL,
)


def begin(phase: str) -> str:
    return _BEGIN.format(phase=phase)


@dataclass(frozen=True)
class Section:
    phase: str
    text: str  # begin marker to end marker, both included


def sections(text: str) -> list[Section]:
    return [Section(m.group("phase"), m.group(0)) for m in _SECTION.finditer(text)]


def phases_in(text: str) -> list[str]:
    """The phase each section of a file says (empty: no section, or people took it over)."""
    return [s.phase for s in sections(text)]


def with_phase_of(actual: str, desired: str) -> str | None:
    """``actual`` with each of its phase sections replaced by the matching section of
    ``desired`` (same order); None when there is nothing to replace (no section, a
    different number of sections than the template has now, or already the same)."""
    have, want = sections(actual), sections(desired)
    if not have or len(have) != len(want):
        return None
    out, pos = [], 0
    for old, new in zip(have, want, strict=True):
        start = actual.index(old.text, pos)
        out.append(actual[pos:start])
        out.append(new.text)
        pos = start + len(old.text)
    out.append(actual[pos:])
    result = "".join(out)
    return None if result == actual else result
