"""Risk-type playbooks (SPEC 6.1, handbook 000), kept as data in
``issue_templates/playbooks.yml`` and validated against a JSON schema: every text a
triage issue shows is a string. (An unquoted ``: `` in a YAML list item makes a
mapping, which a triage issue would print as a Python dict; an unquoted `` #`` starts
a YAML comment, which cuts the text short: "Seek help in the" for "... the #competition
Slack channel".)"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from gl_csm.domain.measures import registry
from gl_csm.domain.taxonomy import RISK_TYPES
from gl_csm.errors import GlCsmError
from gl_csm.services.tracking import ISSUE_TEMPLATES
from gl_csm.templates import Trusted

PLAYBOOKS = "playbooks.yml"
_TEXT = {"type": "string", "minLength": 1}
_TEXTS = {"type": "array", "items": _TEXT, "minItems": 1}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["types"],
    "properties": {
        "common_discovery": _TEXT,
        "types": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(RISK_TYPES)},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "summary", "discovery", "mitigations"],
                "properties": {
                    "title": _TEXT,
                    "summary": _TEXT,
                    "discovery": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["topic", "questions"],
                            "properties": {"topic": _TEXT, "questions": _TEXTS},
                        },
                    },
                    "mitigations": _TEXTS,
                },
            },
        },
    },
}


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def problems_of(data: Any, source: str) -> list[str]:
    """Every schema violation of a playbooks document, naming the file and the key."""
    validator = Draft202012Validator(SCHEMA)
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        shown = repr(error.instance)
        if len(shown) > 70:
            shown = shown[:67] + "..."
        expected = {
            "type": f"expected a {error.validator_value}",
            "minLength": "expected a non-empty string",
            "minItems": "expected a non-empty list",
            "required": "a required key is missing",
            "additionalProperties": "unknown key",
            "enum": "expected a risk type of SPEC 6.1",
        }.get(str(error.validator), error.message)
        if error.validator == "type" and error.validator_value == "string":
            expected += " (quote a text that contains ': ')"
        out.append(f"{source}: key '{_where(error.path)}': {expected}; got {shown}")
    return out


#: A plain (unquoted) list item or value: YAML ends it at the first `` #``.
_PLAIN_TEXT = re.compile(r"^\s*(?:- |[A-Za-z_-]+: )(?!['\"|>])(.*)$")


def cut_by_comment(text: str, source: str) -> list[str]:
    """Every line whose unquoted text YAML cuts at a `` #`` (the rest is read as a
    comment): the mitigation a triage issue shows would end mid-sentence."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        found = _PLAIN_TEXT.match(line)
        if found is None or " #" not in found.group(1):
            continue
        kept = found.group(1).split(" #", 1)[0].strip()
        out.append(
            f"{source} line {number}: the text is cut at ' #' (YAML reads the rest as a "
            f"comment, leaving {kept!r}); quote the whole text"
        )
    return out


def check_file(path: Path) -> list[str]:
    """The problems of one playbooks file (unreadable, not YAML, text cut by a comment,
    or not the schema)."""
    name = f"issue_templates/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        return [f"{name}: cannot be read: {exc.strerror}"]
    except yaml.YAMLError as exc:
        return [f"{name}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    return cut_by_comment(text, name) + problems_of(data, name)


@cache
def playbooks() -> dict[str, Any]:
    """The validated playbooks (a bad file stops the run before anything is written)."""
    path = ISSUE_TEMPLATES / PLAYBOOKS
    problems = check_file(path)
    if problems:
        raise GlCsmError("; ".join(problems))
    return _trusted(yaml.safe_load(path.read_text(encoding="utf-8")))


def _trusted(data: Any) -> Any:
    """The playbooks' texts as the bot's own (templates.Trusted): they ship with gl-csm
    like the issue templates, so a "#competition" Slack channel shows as written."""
    if isinstance(data, str):
        return Trusted(data)
    if isinstance(data, list):
        return [_trusted(x) for x in data]
    if isinstance(data, dict):
        return {k: _trusted(v) for k, v in data.items()}
    return data


def suggested_types(red_measures: list[str]) -> dict[str, list[str]]:
    """Risk type -> the red measures pointing to it, in the order of SPEC 6.1."""
    found: dict[str, list[str]] = {}
    for name in red_measures:
        # The risk type (SPEC 6.1, handbook 000 "Types of Risk") each measure's
        # definition says a red reading points to; sentiment points nowhere.
        found_def = registry.definition(name)
        kind = None if found_def is None else found_def.risk_type
        if kind is not None:
            found.setdefault(kind, []).append(name)
    return {k: found[k] for k in RISK_TYPES if k in found}
