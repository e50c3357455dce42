"""Markdown scanning the way GitLab decides what is a quick action or a mention.

Quick actions (doc/user/project/quick_actions.md): a command is a line that
*starts* with ``/name`` (no indentation, name matched case-insensitively) and is
not inside a fenced ```` ``` ```` block, a ``>>>`` multi-line quote or an HTML
block. Only names GitLab knows are commands; any other ``/text`` line stays as
text. Note that GitLab's extractor treats only backtick fences as code, so a
``~~~`` fence does *not* protect a command line; the sandbox does the same.

Mentions (doc/user/discussions/_index.md, "Mentions"): ``@username`` in rendered
Markdown, so not inside code spans, code blocks or HTML comments.
"""

from __future__ import annotations

import re

from gl_csm.sandbox.references import as_rendered

# A block GitLab's extractor skips as a whole: ``` fence, >>> quote or HTML element.
_SKIPPED_BLOCK = re.compile(
    r"""
      ^```.+?\n```$            # fenced code (backticks only)
    | ^>>>.+?\n>>>$            # multi-line blockquote
    | ^<[^>\n]+?>\n.+?\n</[^>\n]+?>$   # HTML block on its own lines
    """,
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)


def split_commands(text: str, names: frozenset[str]) -> tuple[str, list[tuple[str, str]]]:
    """Remove command lines from ``text``; return (remaining text, [(name, argument)]).

    The remaining text is right-stripped, as GitLab stores it.
    """
    text = text.replace("\r", "")
    commands: list[tuple[str, str]] = []
    out: list[str] = []
    pos = 0
    for block in _SKIPPED_BLOCK.finditer(text):
        out.append(_strip_commands(text[pos : block.start()], names, commands))
        out.append(block.group(0))
        pos = block.end()
    out.append(_strip_commands(text[pos:], names, commands))
    return "".join(out).rstrip(), commands


_COMMAND_LINE = re.compile(
    r"^/(?P<name>[A-Za-z_]+)(?:[ ](?P<arg>[^\n]*))?[ \t]*(?:\n|$)", re.MULTILINE
)


def _strip_commands(chunk: str, names: frozenset[str], commands: list[tuple[str, str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name").lower()
        if name not in names:
            return match.group(0)
        commands.append((name, (match.group("arg") or "").strip()))
        return ""

    return _COMMAND_LINE.sub(replace, chunk)


_MENTION = re.compile(r"(?<![\w@/.+\-\\`])@(?P<name>[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)")


def mentioned_names(text: str) -> list[str]:
    """``@names`` in rendered text, in order of first appearance, without duplicates."""
    # CommonMark "Backslash escapes": an escaped ` or ~ is a literal character, it opens
    # no code span or fence (so it must not hide the mentions after it); a character
    # reference (&#64;) is the character it names (gl_csm/sandbox/references.py).
    visible = as_rendered(text)
    seen: list[str] = []
    for match in _MENTION.finditer(visible):
        name = match.group("name")
        if name.lower() not in (s.lower() for s in seen):
            seen.append(name)
    return seen
