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
from typing import Any

DATA_RE = re.compile(r"<!-- gl-csm-data (\{.*?\}) -->")


def card_data(description: str | None) -> dict[str, Any]:
    """The hidden data of an existing card ({} when none or unreadable)."""
    found = DATA_RE.search(description or "")
    if not found:
        return {}
    try:
        data = json.loads(found.group(1))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def data_comment(data: Mapping[str, Any]) -> str:
    """The hidden comment holding ``data``."""
    text = json.dumps(dict(data), sort_keys=True, separators=(",", ":"))
    # Nothing in the data may close the comment early.
    return "<!-- gl-csm-data " + text.replace("--", "-\\u002d") + " -->"
