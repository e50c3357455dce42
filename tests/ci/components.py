"""GitLab's CI/CD component include, done here for tests: gle (gitlab-emulator 16.3)
and check-jsonschema know neither `include: component:` nor a file with a `spec:`
header. As GitLab does (doc/ci/components/_index.md, doc/ci/inputs/_index.md): the
component file is a `spec: inputs:` document, `---`, then the jobs; each
`$[[ inputs.NAME ]]` takes the value the include gives, else the input's default; an
input with no default must be given, an unknown one is an error; `type: number` and
`boolean` values are checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
_INPUT = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
_TYPES = {"string": str, "number": (int, float), "boolean": bool, "array": list}


def split(path: Path) -> tuple[dict[str, Any], str]:
    """The component's header (``spec``) and its body's text."""
    head, sep, body = path.read_text(encoding="utf-8").partition("\n---\n")
    assert sep, f"{path}: a component is a spec: header, ---, then the jobs"
    header = yaml.safe_load(head)
    assert set(header) == {"spec"}, f"{path}: the first document holds only spec:"
    return header, body


def interpolate(path: Path, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The component's jobs with its inputs filled in."""
    header, body = split(path)
    spec = header["spec"].get("inputs") or {}
    given = dict(given or {})
    unknown = set(given) - set(spec)
    assert not unknown, f"{path}: unknown inputs {sorted(unknown)}"
    values: dict[str, Any] = {}
    for name, decl in spec.items():
        decl = decl or {}
        if name in given:
            value = given[name]
        else:
            assert "default" in decl, f"{path}: input {name} has no default and is not given"
            value = decl["default"]
        kind = decl.get("type", "string")
        assert isinstance(value, _TYPES[kind]), f"{path}: input {name} is not a {kind}: {value!r}"
        values[name] = value

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{path}: $[[ inputs.{name} ]] is not declared in spec:inputs"
        value = values[name]
        return str(value).lower() if isinstance(value, bool) else str(value)

    jobs = yaml.safe_load(_INPUT.sub(fill, body))
    assert isinstance(jobs, dict)
    return jobs


def component_name(ref: str) -> str:
    """`$CI_SERVER_FQDN/group/gl-csm/triage@0.2.0` -> `triage`."""
    return ref.rsplit("/", 1)[1].split("@", 1)[0]


def resolve(ci_file: Path) -> dict[str, Any]:
    """A pipeline file with its component includes replaced by their jobs (from this
    repository's templates/, the version the include names being this one)."""
    doc = yaml.safe_load(ci_file.read_text(encoding="utf-8"))
    merged: dict[str, Any] = {}
    rest = []
    for item in doc.get("include") or []:
        if isinstance(item, dict) and "component" in item:
            jobs = interpolate(
                TEMPLATES / f"{component_name(item['component'])}.yml", item.get("inputs")
            )
            clash = set(jobs) & set(merged)
            assert not clash, f"components define the same jobs {sorted(clash)}"
            merged.update(jobs)
        else:
            rest.append(item)
    out = {k: v for k, v in doc.items() if k != "include"}
    if rest:
        out["include"] = rest
    return {**merged, **out}
