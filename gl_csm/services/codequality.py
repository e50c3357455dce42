"""`templates check` findings as a GitLab Code Quality report, so they show in the merge
request widget (`artifacts:reports:codequality`, doc/ci/testing/code_quality.md "Code
Quality report format": a JSON array of ``description``, ``check_name``,
``fingerprint``, ``severity``, ``location.path``, ``location.lines.begin``).

A finding names its file when it can (``issue_templates/x.j2:3: ...``,
``enterprise/.gitlab/issue_templates/y.md: ...``, ``enterprise (post-sales) for acme:
...`` -> that template's ``manifest.yml``); otherwise the report points at the template
folder. The fingerprint is the finding's text, so an unchanged finding is the same
finding in the next pipeline (the widget then shows only new and fixed ones).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_FILE_LINE = re.compile(r"^(?P<path>[\w.@/-]+\.(?:j2|yml|yaml|md))(?::(?P<line>\d+))?:")
_MANIFEST = re.compile(r"^(?P<name>[\w-]+) \((?:pre-sales|post-sales)\) for ")
TEMPLATES = "project_templates"


def _location(problem: str, root: Path) -> tuple[str, int]:
    found = _FILE_LINE.match(problem)
    if found:
        path = found.group("path")
        for candidate in (path, f"{TEMPLATES}/{path}"):
            if (root / candidate).is_file():
                return candidate, int(found.group("line") or 1)
        return path, int(found.group("line") or 1)
    manifest = _MANIFEST.match(problem)
    if manifest:
        candidate = f"{TEMPLATES}/{manifest.group('name')}/manifest.yml"
        if (root / candidate).is_file():
            return candidate, 1
    if problem.startswith("sample account: "):
        file = re.search(r"(accounts/[\w.-]+\.yml)", problem)
        if file:
            return file.group(1), 1
    return f"{TEMPLATES}/", 1


def code_quality(problems: list[str], root: Path) -> list[dict[str, object]]:
    """One Code Quality issue per finding (severity major: the check fails the job)."""
    issues = []
    for problem in problems:
        path, line = _location(problem, root)
        issues.append(
            {
                "description": problem,
                "check_name": "gl-csm/templates-check",
                "fingerprint": hashlib.sha256(problem.encode("utf-8")).hexdigest()[:32],
                "severity": "major",
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return issues
