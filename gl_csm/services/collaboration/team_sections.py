"""The parts of a collaboration project's texts that name the account team (SPEC 5: "The
bot's parts of customer-visible files (team table, phase passages) follow the
registry"): the README's team table, the members line of the instructions, the GitLab
attendees of the preloaded Welcome call issue.

A template marks each such part with two hidden HTML comments (not shown by GitLab's
Markdown), as phase_sections does for the phase passages. When the registry's team
differs from what such a part says (a handoff, a team change in the registry, a
promote), the text between the markers is replaced with the current team's, and
everything people wrote outside them stays as it is. A person who deletes the markers
takes the part over: the bot then leaves it alone.

Unlike a phase passage (replaced only when the phase differs, so dates in it are those
of the day it was written), a team part is compared as a whole: what it says is what the
registry says today.
"""

from __future__ import annotations

import re

BEGIN = "<!-- gl-csm team (this part follows the account team; write outside it) -->"
END = "<!-- gl-csm team end -->"
_SECTION = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.DOTALL)


def sections(text: str) -> list[str]:
    """Each team part of ``text``, markers included, in order."""
    return _SECTION.findall(text)


def with_team_of(actual: str, desired: str) -> str | None:
    """``actual`` with each of its team parts replaced by the matching part of
    ``desired`` (same order); None when there is nothing to replace: no part (people
    took it over), a different number of parts than the template has now (the file is
    the people's to reconcile), or every part already says the same."""
    have, want = sections(actual), sections(desired)
    if not have or len(have) != len(want) or have == want:
        return None
    out, pos = [], 0
    for old, new in zip(have, want, strict=True):
        start = actual.index(old, pos)
        out.append(actual[pos:start])
        out.append(new)
        pos = start + len(old)
    out.append(actual[pos:])
    return "".join(out)
