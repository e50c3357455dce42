"""What GitLab's reference filters see in a text, and the references that reach another
object: for the sandbox's record of who would be notified, and for tests.

GitLab renders Markdown first (CommonMark decodes character references such as
``&#64;``, ``&#x40;`` and ``&commat;`` into the characters they name, outside code),
then runs its reference filters on the rendered text (lib/banzai/pipeline/
gfm_pipeline.rb: the reference filters come after the Markdown filter). So a mention
written ``&#64;all`` notifies everyone, as ``@all`` does. A reference that reaches
another object: ``@user`` / ``@all`` (notified), ``#issue``, ``!merge_request``, ``&epic``,
also across projects (``group/project#12``): each of the last three gets a "mentioned
in" system note (app/models/concerns/mentionable.rb ``referenced_mentionables``).
"""

from __future__ import annotations

import html
import re

# Regions that do not render as text (code block, code span, comment, indented code).
_NOT_RENDERED = re.compile(
    r"""
      ^[ ]{0,3}(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=fence)[ \t]*$|\Z)
    | (?P<ticks>`+).+?(?P=ticks)
    | <!--.*?-->
    | ^(?:[ ]{4}|\t)[^\n]*$
    """,
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)
_ESCAPED_CODE = re.compile(r"\\[`~]")
# An inline link's text renders inside <a>, which the reference filters skip
# (lib/banzai/filter/references/reference_filter.rb: nodes with an "a" ancestor).
_LINK = re.compile(r"(?<!\\)\[(?:[^\]\\\n]|\\.)*\]\([^()\s]*\)")
# CommonMark "Entity and numeric character references": named, decimal, hexadecimal.
_CHARACTER_REFERENCE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)
_REACHING = re.compile(
    r"""
      (?<![\w@/.+\-\\`&])@(?P<user>[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)
    | (?<![\w&])(?P<path>[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-/]+)?(?P<sigil>[#!&])(?P<number>[0-9]+)\b
    """,
    re.VERBOSE,
)


def as_rendered(text: str | None) -> str:
    """``text`` as the reference filters see it: code, comments and link texts left out
    (each replaced by a space), character references decoded."""
    visible = _NOT_RENDERED.sub(" ", _ESCAPED_CODE.sub("'", text or ""))
    visible = _LINK.sub(" ", visible)
    return _CHARACTER_REFERENCE.sub(lambda m: html.unescape(m.group(0)), visible)


def reaching(text: str | None) -> list[str]:
    """The references in ``text`` that reach another object, in order, as written once
    decoded: ``@name``, ``#12``, ``!3``, ``&7``, ``group/project#12``."""
    out: list[str] = []
    for match in _REACHING.finditer(as_rendered(text)):
        if match.group("user"):
            found = "@" + match.group("user")
        else:
            found = f"{match.group('path') or ''}{match.group('sigil')}{match.group('number')}"
        if found not in out:
            out.append(found)
    return out
