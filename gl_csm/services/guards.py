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
    """The accounts project (tracking issues), for commands that write nothing to the
    triage or escalation projects (onboard, promote, will-churn). Those are checked too
    (one read each): README "Running against GitLab", a writing command refuses to run
    while any internal project is public, not only the one it writes to."""
    _, projects = settings.require_layout(command)
    return require_internal_projects(gateway, projects)["accounts"]


def _under(path: str, group: str) -> bool:
    return path.lower().startswith(group.strip("/").lower() + "/")


def require_collaboration_path(settings: Settings, slug: str, path: str, command: str) -> str:
    """A collaboration project path (the registry's ``project:`` or what GitLab says a
    project's path is) that the bot may move, make a CSM owner of, or write customer
    files into: inside ``groups.pre_sales`` or ``groups.post_sales`` and never one of
    the internal projects (SPEC 1: ARR and health stay internal). Refused with exit 2
    before anything is written (a ``project:`` naming the triage project
    moved it into the customer group)."""
    groups, projects = settings.require_layout(command)
    clean = path.strip().strip("/")
    internal = {p.strip("/").lower(): role for role, p in projects.items()}
    if clean.lower() in internal:
        raise ConfigError(
            f"account {slug}: project {clean!r} is the internal projects.{internal[clean.lower()]}"
            f"; a collaboration project must be in {groups.pre_sales} or {groups.post_sales}. "
            f"Fix `project:` in the registry file (nothing was written)"
        )
    if not (_under(clean, groups.pre_sales) or _under(clean, groups.post_sales)):
        raise ConfigError(
            f"account {slug}: project {clean!r} is outside the collaboration groups "
            f"({groups.pre_sales}, {groups.post_sales}); gl-csm only moves and writes "
            f"collaboration projects. Fix `project:` in the registry file (nothing was written)"
        )
    return clean
