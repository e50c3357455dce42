"""Visibility levels of groups and projects, lowest first (doc/user/public_access.md):
a project or subgroup may not be more visible than the group that holds it."""

from __future__ import annotations

VISIBILITIES = ("private", "internal", "public")


def visibility_rank(level: str) -> int:
    return VISIBILITIES.index(level)
