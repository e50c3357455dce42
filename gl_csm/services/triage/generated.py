"""The bot's own part of a bot issue's description (issue 9 item 1): between two hidden
markers, rewritten on later runs so it follows the account's current data (risk types
recorded after the issue opened bring their playbook, a new ARR or renewal date shows),
while everything outside the markers, what people wrote, stays as it is.

Ticked boxes survive a rewrite: a task line a person ticked (``- [x] ...``) is still
ticked in the new text when the same task is there. A person who deletes the markers
takes the whole description over: the bot then leaves it alone.
"""

from __future__ import annotations

import re

from gl_csm.templates import Trusted

BEGIN = "<!-- gl-csm generated begin: kept up to date by the bot; write below the end marker -->"
END = "<!-- gl-csm generated end -->"
_TASK = re.compile(r"^(\s*[-*+] )\[([ xX])\] (.*)$")


def markers_context() -> dict[str, Trusted]:
    """The two markers, for a template: ``{{ generated_begin }}`` / ``{{ generated_end }}``."""
    return {"generated_begin": Trusted(BEGIN), "generated_end": Trusted(END)}


def part(text: str | None) -> str | None:
    """The generated part (both markers included), or None when it is not there whole."""
    text = text or ""
    begin = text.find(BEGIN)
    end = text.find(END, begin + 1) if begin != -1 else -1
    if begin == -1 or end == -1:
        return None
    return text[begin : end + len(END)]


def carry_ticks(old: str, new: str) -> str:
    """``new`` with the boxes ticked that were ticked in ``old`` for the same task."""
    ticked = set()
    for line in old.splitlines():
        found = _TASK.match(line)
        if found and found.group(2) in "xX":
            ticked.add(found.group(3).strip())
    if not ticked:
        return new
    out = []
    for line in new.split("\n"):
        found = _TASK.match(line)
        if found and found.group(2) == " " and found.group(3).strip() in ticked:
            line = f"{found.group(1)}[x] {found.group(3)}"
        out.append(line)
    return "\n".join(out)


def refreshed(description: str | None, rendered: str) -> str | None:
    """``description`` with its generated part replaced by the one of ``rendered`` (ticks
    carried over); None when there is nothing to change or no part to replace."""
    old, new = part(description), part(rendered)
    if old is None or new is None:
        return None
    new = carry_ticks(old, new)
    if new == old:
        return None
    assert description is not None
    return description.replace(old, new, 1)
