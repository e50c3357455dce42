"""One API request as the handlers see it, with GitLab-like parameter coercion.

GitLab (Grape) merges query-string, form and JSON parameters into one set, and
accepts arrays either as ``name[]=a&name[]=b`` or, for many list parameters, as a
comma-separated string (doc/api/rest/_index.md, "Array and hash types"). The
helpers below accept all of these so python-gitlab, curl and raw ``requests``
callers all work.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from gl_csm.sandbox.errors import ApiError, bad_request, invalid, is_invalid, missing

_TRUE = {"true", "1", "yes", "t", "on"}
_FALSE = {"false", "0", "no", "f", "off"}


@dataclass
class Reply:
    """A handler's answer: JSON-able body (or bytes for raw endpoints) plus headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


def no_content() -> Reply:
    """``204 No Content`` with an empty body (Grape's ``body false`` after a DELETE,
    lib/api/helpers.rb ``destroy_conditionally!``)."""
    return Reply(204, None, raw=b"")


def not_modified() -> Reply:
    """``304 Not Modified`` with an empty body (lib/api/helpers.rb ``not_modified!``;
    Rack drops the body of a 304)."""
    return Reply(304, None, raw=b"")


@dataclass
class ApiRequest:
    method: str
    path: str  # still percent-encoded, without the query string
    query_string: str
    headers: dict[str, str]
    params: dict[str, Any]
    base_url: str
    user_id: int = 0
    job_token: bool = False

    # -- typed accessors -------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.params

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.params.get(name)
        if value is None:
            if required:
                raise missing(name)
            return default
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def required_str(self, name: str) -> str:
        value = self.str(name, required=True)
        assert value is not None
        if value == "":
            # Grape's presence check: an empty required string is "empty".
            raise ApiError(400, {"error": f"{name} is empty"})
        return value

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if isinstance(value, bool):
            raise is_invalid(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise is_invalid(name) from None

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise is_invalid(name)

    def list(self, name: str) -> list[str] | None:
        """A list parameter given as JSON array, ``name[]=`` repeats, or comma-separated."""
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, list):
            out: list[str] = []
            for v in value:
                out.extend(_split_commas(v) if isinstance(v, str) else [str(v)])
            return out
        if isinstance(value, str):
            return _split_commas(value)
        return [str(value)]

    def int_list(self, name: str) -> list[int] | None:
        values = self.list(name)
        if values is None:
            return None
        try:
            return [int(v) for v in values if v != ""]
        except ValueError:
            raise is_invalid(name) from None

    def choice(self, name: str, values: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.str(name)
        if value is None:
            return default
        if value not in values:
            raise invalid(name)
        return value

    def date(self, name: str) -> tuple[bool, str | None]:
        """(given, ISO date or None). An empty value clears the date."""
        if name not in self.params:
            return False, None
        value = self.params[name]
        if value is None or value == "":
            return True, None
        try:
            return True, dt.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise is_invalid(name) from None

    def datetime(self, name: str) -> dt.datetime | None:
        value = self.str(name)
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise is_invalid(name) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed


def _split_commas(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip() != ""]


def parse_params(query_string: str, headers: dict[str, str], body: bytes | None) -> dict[str, Any]:
    """Merge query, form and JSON parameters (body wins over query, as in Rack/Grape)."""
    params: dict[str, Any] = {}
    _merge_pairs(params, parse_qsl(query_string, keep_blank_values=True))
    if body:
        ctype = ""
        for key, value in headers.items():
            if key.lower() == "content-type":
                ctype = value.lower()
        text = body.decode("utf-8", errors="replace")
        if "json" in ctype or (not ctype and text.lstrip()[:1] in "{["):
            try:
                data = json.loads(text)
            except ValueError:
                raise bad_request("400 Bad request - Invalid JSON body") from None
            if isinstance(data, dict):
                for key, value in data.items():
                    params[key.removesuffix("[]")] = value
        elif "form-urlencoded" in ctype or not ctype:
            form: dict[str, Any] = {}
            _merge_pairs(form, parse_qsl(text, keep_blank_values=True))
            params.update(form)
    return params


def _merge_pairs(params: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
    """Rack's nested parameters, as Grape receives them: ``name[]=a&name[]=b`` is a list,
    ``a[b][c]=v`` a hash, ``actions[][action]=x&actions[][file_path]=y`` a list of hashes
    (a new hash starts when its key repeats), and ``actions[0][action]=x`` a hash whose
    keys are all indexes, which Grape's Array coercion turns into a list in index order
    (Rack::QueryParser#normalize_params; doc/api/rest/_index.md "Array and hash
    types")."""
    for key, value in pairs:
        head, _, rest = key.partition("[")
        if not rest:
            params[key] = value
            continue
        parts = [head, *[p.rstrip("]") for p in ("[" + rest).split("[")[1:]]]
        _assign(params, parts, value)
    for key in list(params):
        params[key] = _indexed_to_list(params[key])


def _assign(node: Any, parts: list[str], value: str) -> None:
    name, rest = parts[0], parts[1:]
    if not rest:
        node[name] = value
        return
    if rest[0] == "":
        seq = node.get(name)
        if not isinstance(seq, list):
            seq = [] if seq is None else [seq]
            node[name] = seq
        if len(rest) == 1:
            seq.append(value)
            return
        sub = rest[1:]
        if not seq or not isinstance(seq[-1], dict) or sub[0] in seq[-1]:
            seq.append({})
        _assign(seq[-1], sub, value)
        return
    child = node.get(name)
    if not isinstance(child, dict):
        child = {}
        node[name] = child
    _assign(child, rest, value)


def _indexed_to_list(value: Any) -> Any:
    if isinstance(value, dict):
        value = {k: _indexed_to_list(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    if isinstance(value, list):
        return [_indexed_to_list(v) for v in value]
    return value
