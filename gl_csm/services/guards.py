"""Checks every writing command makes before it writes anything."""

from __future__ import annotations

from gl_csm.config import Projects
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway


def require_internal_projects(gateway: Gateway, projects: Projects) -> dict[str, dict]:
    """The internal projects by role; refuse when one is missing or public.

    SPEC 1: priority, health, ARR and risk go only to internal projects, and the bot
    must refuse (clear error, nothing written) to write them into a public project.
    """
    found: dict[str, dict] = {}
    for role, path in projects.items():
        project = gateway.project(path)
        if project is None:
            raise ConfigError(
                f"projects.{role}: project {path!r} does not exist in GitLab at "
                f"{gateway.url}; create it (private or internal) or fix the config"
            )
        if project.get("visibility") == "public":
            raise ConfigError(
                f"projects.{role}: project {path!r} is public; gl-csm writes internal "
                f"account facts there and refuses to run until it is private or internal "
                f"(nothing was written)"
            )
        found[role] = project
    return found
