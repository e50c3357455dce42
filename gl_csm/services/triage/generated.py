"""The bot's own part of a bot issue's description: between two hidden
markers, rewritten on later runs so it follows the account's current data (risk types
recorded after the issue opened bring their playbook, a new ARR or renewal date shows),
while everything outside the markers, what people wrote, stays as it is.

Ticked boxes survive a rewrite: a task line a person ticked (``- [x] ...``) is still
ticked in the new text when the same task is there. A person who deletes the markers
takes the whole description over: the bot then leaves it alone.

The part carries a hidden stamp under its begin marker: a digest of what it was rendered
from (template, gl-csm version, context) and a hash of its text. A rerun whose inputs
have the same digest, on a part whose text still hashes the same (nobody ticked a box or
wrote inside it), knows the part is up to date without rendering it (rendering
every open reminder, triage and escalation issue was a fifth of a no-op rerun's CPU).
Otherwise it renders and compares the texts without their stamps, so a part written
before stamps existed, or a stale stamp alone, is never a reason to write.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from gl_csm import __version__
from gl_csm.services.changed_parts import because, changed_names
from gl_csm.services.rendered_from import rendered_from
from gl_csm.services.tracking import render_template, short_hash, template_text
from gl_csm.templates import Trusted, inert_commands

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


_STAMP_RE = re.compile(r"\n<!-- gl-csm inputs ([0-9a-f]{16}) text ([0-9a-f]{16}) -->")


def inputs_digest(template: str, template_source: str, context: Mapping[str, Any]) -> str:
    """What a generated part is rendered from: the template, gl-csm and the context values
    the template reads (rendered_from.py: a registry field it does not show is no input;
    dates as the template prints them, so a date and its ISO text are one input)."""
    data = rendered_from(template_source, context)
    # short_hash("\0".join((__version__, template, template_source, data))), with the
    # part before the data hashed once per template (as tracking.py does for the card).
    digest = _hashed_prefix(template, template_source).copy()
    digest.update(data.encode())
    return digest.hexdigest()[:16]


@cache
def _hashed_prefix(template: str, template_source: str) -> Any:
    """SHA-256 fed with the gl-csm version, the template's name and its text; callers
    update a copy."""
    return hashlib.sha256(f"{__version__}\0{template}\0{template_source}\0".encode())


def _unstamped(text: str) -> str:
    return _STAMP_RE.sub("", text, count=1)


def _stamp(generated: str, inputs: str) -> str:
    """The part with its stamp under the begin marker (``generated`` is unstamped). The
    text is made inert as the gateway sends it (templates.inert_commands), so the hash
    is the one of what GitLab stores."""
    generated = inert_commands(generated)
    line = f"\n<!-- gl-csm inputs {inputs} text {short_hash(generated)} -->"
    return generated.replace(BEGIN, BEGIN + line, 1)


def stamped(rendered: str, inputs: str) -> str:
    """A freshly rendered description with its generated part stamped (none: as is)."""
    found = part(rendered)
    if found is None:
        return rendered
    return rendered.replace(found, _stamp(_unstamped(found), inputs), 1)


def up_to_date(description: str | None, inputs: str) -> bool:
    """The part was rendered from these very inputs and nobody changed its text since."""
    found = part(description)
    if found is None:
        return False
    stamp = _STAMP_RE.search(found)
    return (
        stamp is not None
        and stamp.group(1) == inputs
        and stamp.group(2) == short_hash(found.replace(stamp.group(0), "", 1))
    )


def refreshed(description: str | None, rendered: str, inputs: str) -> str | None:
    """``description`` with its generated part replaced by the one of ``rendered`` (ticks
    carried over, stamped with ``inputs``); None when there is nothing to change (stamps
    aside) or no part to replace."""
    old, new = part(description), part(rendered)
    if old is None or new is None:
        return None
    bare = inert_commands(carry_ticks(old, _unstamped(new)))
    if bare == _unstamped(old):
        return None
    assert description is not None
    return description.replace(old, _stamp(bare, inputs), 1)


def render_stamped(template: str, context: Mapping[str, Any]) -> str:
    """One of ``issue_templates/`` rendered for a new issue, its generated part stamped."""
    inputs = inputs_digest(template, template_text(template), context)
    return stamped(render_template(template, context), inputs)


def refresh_template(
    description: str | None, template: str, context: Mapping[str, Any]
) -> str | None:
    """The description with its generated part brought up to date from one of
    ``issue_templates/``, or None when it is: known from the stamp without rendering,
    else rendered and compared."""
    inputs = inputs_digest(template, template_text(template), context)
    if up_to_date(description, inputs):
        return None
    return refreshed(description, render_template(template, context), inputs)


def why(what: str, old: str | None, new: str) -> str:
    """The plan's words for a refresh of the generated part: ``what`` and what differs
    between the old part and the new one (services/changed_parts.py), "bring the bot's
    part of the description up to date: open risks, meeting cadence"."""
    names = changed_names(part(old) or "", part(new) or "")
    return because(what, names, "a new gl-csm version or template")
