"""Errors a user can hit, with the exit code the CLI maps them to (SPEC section 7).

Each message says what was expected and where (file, key, account); the CLI prints
the message, never a stack trace, for these.
"""

from __future__ import annotations


class GlCsmError(Exception):
    """Base class: an error the CLI reports as one clear message."""

    exit_code = 1


class UsageError(GlCsmError):
    """Bad usage or configuration: exit code 2, nothing written."""

    exit_code = 2


class ConfigError(UsageError):
    """A problem in gl-csm.yml or the environment, naming the key."""


class GitLabError(GlCsmError):
    """GitLab answered something the bot cannot work around (names object and answer)."""

    exit_code = 1


class PartialWrite(GitLabError):
    """A write GitLab took only in part (an issue created with fewer assignees than asked):
    the object exists (``value``), and the run names what did not take (exit 1)."""

    def __init__(self, value: object, message: str) -> None:
        super().__init__(message)
        self.value = value


class GitLabUnreachable(UsageError):
    """GitLab could not be reached, or refused the token, before anything was done:
    exit code 2 (SPEC 7), like a configuration problem."""
