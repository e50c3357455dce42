"""The hidden data a tracking card carries (`<!-- gl-csm-data {...} -->`): what the bot
records about an account between runs (the iids of its issues, the team and passage the
collaboration project names, evidence, notes posted).

It sits below triage, collaboration, moves and lookup, which all read it: the card is
written by services/tracking.py, but reading its data must not pull the card's rendering
(templates, the assessment) into every module that finds an account's issues.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

DATA_RE = re.compile(r"<!-- gl-csm-data (\{.*?\}) -->")


def card_data(description: str | None) -> dict[str, Any]:
    """The hidden data of an existing card ({} when none or unreadable); a copy the
    caller may change."""
    if not description:
        return {}
    data = _parsed(description)
    return {} if data is None else _copied(data)


def card_value(description: str | None, key: str) -> Any:
    """``card_data(description).get(key)``, copying only that value (a caller after one
    key does not pay for a copy of the whole data)."""
    if not description:
        return None
    data = _parsed(description)
    return None if data is None else _copied(data.get(key))


# Triage reads each tracking card's data once for the evidence listings, once to gather
# the evidence, then about five times while it plans the account (services/triage/
# run.py, evidence.py, past_issues.py, bot_issues.py, lookup.py): the description is
# searched and parsed once. Keyed by the whole text, so a card changed since is parsed
# again; the texts are those the run's listing holds anyway, the entries their data.
@lru_cache(maxsize=2048)
def _parsed(description: str) -> dict[str, Any] | None:
    found = DATA_RE.search(description)
    if not found:
        return None
    try:
        data = json.loads(found.group(1))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _copied(value: Any) -> Any:
    """A copy of JSON data (dicts and lists copied all the way down), so no caller
    changes what :func:`_parsed` keeps."""
    if type(value) is dict:
        return {k: _copied(v) for k, v in value.items()}
    if type(value) is list:
        return [_copied(v) for v in value]
    return value


#: json.dumps(value, sort_keys=True, separators=(",", ":")) without building the encoder
#: on each call (Lib/json/__init__.py builds one whenever an option is given).
SORTED_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def data_comment(data: Mapping[str, Any]) -> str:
    """The hidden comment holding ``data``."""
    text = SORTED_JSON.encode(dict(data))
    # Nothing in the data may close the comment early.
    return "<!-- gl-csm-data " + text.replace("--", "-\\u002d") + " -->"
