"""GitLab failures as clear errors: every call runs through :meth:`GitLabCalls._wrap`,
which turns python-gitlab/requests exceptions into GitLabError, GitLabUnreachable or
ConfigError naming the object and GitLab's answer (exit 2, no stack trace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import gitlab
import requests

from gl_csm.errors import ConfigError, GitLabError, GitLabUnreachable
from gl_csm.gitlab.counting import CallCounter
from gl_csm.gitlab.pacing import Pacer
from gl_csm.gitlab.retries import RetryNotices
from gl_csm.gitlab.transport import DeadlineExceeded, NotGitLab, RedirectedAway
from gl_csm.urls import redact_url

T = TypeVar("T")


class WrongShape(gitlab.GitlabParsingError):
    """JSON, but not the shape GitLab's API answers (doc/api/rest/_index.md: an object
    for one resource, a list of objects for a listing): a proxy, a stub, a wrong URL."""


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "JSON")


def one_object(value: object) -> dict:
    """``value`` if it is a JSON object, else WrongShape naming what came."""
    if not isinstance(value, dict):
        raise WrongShape(error_message=f"expected a JSON object, got {_kind(value)}")
    return value


def list_of_objects(value: object) -> list[dict]:
    """``value`` if it is a list of JSON objects, else WrongShape naming what came."""
    if not isinstance(value, list):
        raise WrongShape(error_message=f"expected a JSON list of objects, got {_kind(value)}")
    for item in value:
        if not isinstance(item, dict):
            raise WrongShape(
                error_message=f"expected a JSON list of objects, got a list holding {_kind(item)}"
            )
    return value


class GitLabCalls:
    """The state every part of the gateway shares, and the conversion of failures."""

    # Set by Gateway.__init__ (gateway.py); declared here for the mixins that use them.
    gl: gitlab.Gitlab
    counter: CallCounter
    retry_notices: RetryNotices
    read_workers: int
    max_retries: int
    pacer: Pacer
    usernames: dict[int, str]
    #: The token's user id, once read (check_connection): what tells the bot's own
    #: issues and notes from a person's (gl_csm/gitlab/issues.py _authored).
    bot_id: int | None = None
    _create_attempts: int
    _create_wait_max: float

    @property
    def url(self) -> str:
        """GitLab's URL as it may be shown or posted: without credentials."""
        return redact_url(self.gl.url)

    def _convert(self, what: str, exc: BaseException) -> Exception:
        """A GitLab failure as a message that names the object and GitLab's answer."""
        if isinstance(exc, gitlab.GitlabAuthenticationError):
            return ConfigError(
                f"GitLab at {self.url} rejected the token in GITLAB_TOKEN (401 Unauthorized): "
                f"check that it is valid and has the api scope"
            )
        if isinstance(exc, DeadlineExceeded | NotGitLab | RedirectedAway):
            # A clear exit 2 (check the URL or the network), not a crash or a hang.
            return GitLabUnreachable(
                f"{what}: GitLab at {self.url} {exc}; check GITLAB_URL (the GitLab root, "
                f"not a login page or a proxy) and the network"
            )
        if isinstance(exc, WrongShape):
            return GitLabUnreachable(
                f"{what}: GitLab at {self.url} answered JSON of the wrong shape "
                f"({exc.error_message}); check GITLAB_URL"
            )
        if isinstance(exc, gitlab.GitlabParsingError):
            return GitLabUnreachable(
                f"{what}: GitLab at {self.url} answered something that is not the JSON of "
                f"its API; check GITLAB_URL"
            )
        if isinstance(exc, gitlab.GitlabError):
            return GitLabError(f"{what}: GitLab answered {exc.response_code}: {exc.error_message}")
        return GitLabError(
            f"{what}: could not reach GitLab at {self.url} ({exc.__class__.__name__})"
        )

    def _wrap(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (gitlab.GitlabError, requests.RequestException) as exc:
            # RequestException: also a body cut short (ChunkedEncodingError), a redirect
            # loop, a bad encoding, besides DeadlineExceeded and NotGitLab (its subclasses).
            raise self._convert(what, exc) from exc
