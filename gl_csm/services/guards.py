"""Checks every writing command makes before it writes anything."""

from __future__ import annotations

from gl_csm.config import Projects, Settings
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway


def require_internal_project(gateway: Gateway, role: str, path: str) -> dict:
    """One internal project (`projects.<role>`); refuse when it is missing or public.

    SPEC 1: priority, health, ARR and risk go only to internal projects, and the bot
    must refuse (clear error, nothing written) to write them into a public project.
    """
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
    return project


def require_internal_projects(gateway: Gateway, projects: Projects) -> dict[str, dict]:
    """Every internal project by role (one read each), checked as above."""
    return {role: require_internal_project(gateway, role, path) for role, path in projects.items()}


def require_accounts_project(gateway: Gateway, settings: Settings, command: str) -> dict:
    """Only the accounts project (tracking issues): one read, for commands that write
    nothing to the triage or escalation projects (onboard, promote, disengage)."""
    _, projects = settings.require_layout(command)
    return require_internal_project(gateway, "accounts", projects.accounts)
