"""All API routes: importing the handler modules registers them with ``router``."""

from __future__ import annotations

from gl_csm.sandbox import (  # noqa: F401  (imported for their @route registrations)
    boards,
    branches,
    group_milestones,
    groups,
    issues,
    labels,
    members,
    merge_requests,
    meta,
    milestones,
    notes,
    projects,
    repository,
    users,
)
from gl_csm.sandbox.router import ROUTES, Route, call, find

__all__ = ["ROUTES", "Route", "call", "find"]
