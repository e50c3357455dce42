"""GitLab Issue Hook payloads as GitLab sends them (doc/user/project/integrations/
webhook_events.md, "Issue events"), built from an issue the sandbox holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _label(name: str, i: int) -> dict[str, Any]:
    return {
        "id": 200 + i,
        "title": name,
        "color": "#dd2b0e",
        "project_id": None,
        "created_at": "2026-01-01 00:00:00 UTC",
        "updated_at": "2026-01-01 00:00:00 UTC",
        "template": False,
        "description": None,
        "type": "GroupLabel",
        "group_id": 1,
    }


def issue_hook(
    project: str,
    issue: Mapping[str, Any],
    *,
    added: Iterable[str] = (),
    previous: Iterable[str] | None = None,
    confidential: bool = False,
    action: str = "update",
) -> dict[str, Any]:
    """The Issue Hook of a person adding ``added`` to ``issue`` (previous: its labels
    before, default its current labels minus ``added``)."""
    added = list(added)
    current = list(issue.get("labels") or [])
    for name in added:
        if name not in current:
            current.append(name)
    before = [n for n in current if n not in added] if previous is None else list(previous)
    labels = [_label(n, i) for i, n in enumerate(current)]
    kind = "confidential_issue" if confidential else "issue"
    return {
        "object_kind": "issue",
        "event_type": kind,
        "user": {"id": 7, "name": "Alice", "username": "alice", "email": "[REDACTED]"},
        "project": {
            "id": issue.get("project_id", 1),
            "name": project.rsplit("/", 1)[-1],
            "path_with_namespace": project,
            "web_url": f"http://gitlab.example.com/{project}",
            "default_branch": "main",
        },
        "object_attributes": {
            "id": issue.get("id", 1),
            "iid": issue["iid"],
            "title": issue.get("title", ""),
            "description": issue.get("description", ""),
            "state": issue.get("state", "opened"),
            "action": action,
            "confidential": confidential,
            "labels": labels,
            "url": issue.get("web_url", ""),
        },
        "labels": labels,
        "changes": {
            "labels": {
                "previous": [_label(n, i) for i, n in enumerate(before)],
                "current": labels,
            },
            "updated_at": {
                "previous": "2026-11-23 08:00:00 UTC",
                "current": "2026-11-23 09:00:00 UTC",
            },
        },
        "repository": {"name": project.rsplit("/", 1)[-1], "url": ""},
    }
