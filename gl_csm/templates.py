"""Templates as data (ARCHITECTURE rule 5): Jinja2 rendered sandboxed and strict.

Bodies are rendered in a ``SandboxedEnvironment`` with ``StrictUndefined`` (an unknown
variable is an error, never an empty string). Every value a template interpolates is
*neutralised* before it lands in Markdown, unless the bot itself marked it
:class:`Trusted` (a mention it means to make, a link it built): text that comes from
accounts or people must not

* run a GitLab quick action (a line starting with ``/``, doc/user/project/quick_actions.md),
* mention anyone (``@all``, ``@user``: notifications are the bot's decision, SPEC 5.1),
* forge or hide a bot marker (``<!-- gl-csm:... -->``, ARCHITECTURE rule 3).

Doing this in ``finalize`` rather than with a filter means a template author cannot
forget it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from gl_csm.errors import GlCsmError

ZWSP = "\u200b"  # breaks a mention or a quick action without changing what a reader sees
_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")


class Trusted(str):
    """Text the bot produced itself and means literally (mentions, links, markers)."""


class TemplateRenderError(GlCsmError):
    """A template that does not render: names the template and the problem."""

    exit_code = 2


def neutralise(value: object) -> str:
    """Make registry or user text inert in GitLab Markdown (see module docstring)."""
    text = str(value)
    # A bot marker is an HTML comment: escaping `<` stops any comment or tag.
    text = text.replace("<", "&lt;")
    text = _MENTION.sub("@" + ZWSP, text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("/"):
            # A backslash escapes the slash in Markdown: shown as "/close", never run.
            lines[i] = line[: len(line) - len(stripped)] + "\\" + stripped
    return "\n".join(lines)


def inline(value: object) -> str:
    """A value that must stay on one line (a name in a title or a table cell)."""
    return neutralise(" ".join(str(value).split())).replace("|", "\\|")


def mention(username: str | None) -> Trusted:
    """A real mention of a GitLab user (the bot decided to notify them)."""
    if not username:
        return Trusted("")
    if not _USERNAME.match(username):
        raise TemplateRenderError(f"not a GitLab username: {username!r}")
    return Trusted("@" + username)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Trusted):
        return value
    if isinstance(value, bool | int | float):
        return value
    return neutralise(value)


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["inline"] = lambda v: Trusted(inline(v))
    env.filters["mention"] = mention
    env.globals["mention"] = mention
    return env


_ENV = environment()


def render(source: str, context: Mapping[str, Any], *, name: str = "<template>") -> str:
    """Render a template text; any template problem names the template."""
    try:
        return _ENV.from_string(source).render(**context)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{name}:{line}" if line else name
        raise TemplateRenderError(f"{where}: {exc.__class__.__name__}: {exc}") from None
