"""What a template is rendered from, for the digests the bot stamps on its texts
(generated.py, the card in tracking.py): only the context values the template reads,
and of the registry's dataclasses (the account) only the attributes it reads. A field
added to the registry, or a value a text does not show, leaves the digest, and so the
stamp, as it was; a rerun then knows the text is up to date without rendering it.

The attributes are read off the template's syntax tree (Jinja's ``Getattr`` nodes on a
context name); a name the template uses whole (``{{ account }}``, a filter or a call
on it) counts whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import nodes

from gl_csm.templates import environment


@cache
def names_read(source: str) -> Mapping[str, frozenset[str] | None]:
    """Each context name the template reads: the attributes it reads off it, or None
    when it uses the value whole."""
    tree = environment().parse(source)
    through_attribute: set[int] = set()
    read: dict[str, set[str] | None] = {}
    for getattr_node in tree.find_all(nodes.Getattr):
        name = getattr_node.node
        if isinstance(name, nodes.Name) and name.ctx == "load":
            through_attribute.add(id(name))
            attrs = read.setdefault(name.name, set())
            if attrs is not None:
                attrs.add(getattr_node.attr)
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and id(name) not in through_attribute:
            read[name.name] = None
    return {k: None if v is None else frozenset(v) for k, v in read.items()}


def _plain(value: object) -> object:
    """A value as JSON can hold it, the same in every process and checkout."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = repr(value)
        source = getattr(value, "source", None)
        # Where the registry file sits (a CI checkout) is never shown: not an input.
        return shown.replace(repr(source), "None") if source else shown
    return repr(value)


def _projected(value: object, attrs: tuple[str, ...] | None) -> object:
    if attrs is None or not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    return {a: getattr(value, a, None) for a in attrs}


@cache
def _sorted_names_read(source: str) -> Mapping[str, tuple[str, ...] | None]:
    """:func:`names_read` with each name's attributes in order (sorted once per template,
    not once per text rendered from it)."""
    return {k: None if v is None else tuple(sorted(v)) for k, v in names_read(source).items()}


# What json.dumps(value, sort_keys=True, default=_plain, separators=(",", ":")) builds on
# every call (Lib/json/__init__.py): one encoder, so each text rendered pays only for
# its encoding (a triage run stamps a digest on every card and generated text).
_ENCODER = json.JSONEncoder(sort_keys=True, default=_plain, separators=(",", ":"))


def rendered_from(source: str, context: Mapping[str, Any]) -> str:
    """The inputs of one template as a JSON text: the context values it reads, the
    registry's dataclasses narrowed to the attributes it reads."""
    read = _sorted_names_read(source)
    # _projected(v, read[k]), called only for the names read through attributes.
    used = {
        k: v if (attrs := read[k]) is None else _projected(v, attrs)
        for k, v in context.items()
        if k in read
    }
    return _ENCODER.encode(used)
