"""Writes: idempotent PUTs, and *marker-safe* creates: a POST is sent without
python-gitlab's transient retry, and when it fails in a way that may have reached GitLab
(5xx, timeout, dropped connection), the object is looked up (by marker, path or title)
before the POST is tried again, so a retried create never makes a duplicate
(GITLAB_API_NOTES.md: python-gitlab retries POST too). Creates are paced (pacing.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import gitlab
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from gl_csm.gitlab.failures import one_object
from gl_csm.gitlab.paths import enc, project_ref
from gl_csm.gitlab.reads import Reads
from gl_csm.gitlab.retries import _is_transient, _status

T = TypeVar("T")
#: lib/api/helpers.rb ``find_project!``: the 405 of a write by a moved project's old path.
MOVED_PROJECT = "Non GET methods are not allowed for moved projects"


class Writes(Reads):
    def _write(self, path: str, send: Callable[[str], T]) -> T:
        """Send a write to ``path``, by the project's id when it is known to have moved.
        A write by a moved project's old path is refused (405) by GitLab: the project is
        then read by that path (the GET follows GitLab's 301) and the write sent by id,
        once; a project that no redirect finds stays the 405."""
        try:
            return send(self._by_id(path))
        except gitlab.GitlabHttpError as exc:
            ref = project_ref(path)
            if exc.response_code != 405 or ref is None or MOVED_PROJECT not in str(exc):
                raise
            self.get(f"/projects/{enc(ref)}", f"read project {ref}")
            if ref.lower() not in self.moved_projects:
                raise
            return send(self._by_id(path))

    def put(self, path: str, what: str, data: Mapping[str, Any]) -> dict:
        """PUT is idempotent here (set labels, fields): python-gitlab may retry it."""
        return self._wrap(
            what,
            lambda: self._write(
                path,
                lambda target: one_object(
                    self.gl.http_put(target, post_data=dict(data), max_retries=self.max_retries)
                ),
            ),
        )

    def _retry_safe(
        self, what: str, send: Callable[[], dict], find: Callable[[], dict | None]
    ) -> dict:
        """Send a non-repeatable write; after a failure that may have reached GitLab,
        look the result up with ``find`` before sending it again."""

        def call() -> dict:
            retrying = Retrying(
                stop=stop_after_attempt(self._create_attempts),
                wait=wait_exponential(multiplier=0.2, max=self._create_wait_max),
                retry=retry_if_exception(_is_transient),
                reraise=True,
                before_sleep=self._notice_create_retry,
            )
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        found = find()
                        if found is not None:
                            return found
                    return send()
            raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

        return self._wrap(what, call)

    def _notice_create_retry(self, state: Any) -> None:
        notify = self.retry_notices.notify
        if notify is None or state.outcome is None or state.next_action is None:
            return
        exc = state.outcome.exception()
        code = _status(exc)
        what = (
            f"GitLab answered {code}" if code else f"could not reach GitLab ({type(exc).__name__})"
        )
        notify(
            f"{what}, retry {state.attempt_number}/{self._create_attempts - 1} in "
            f"{state.next_action.sleep:.1f} s (looked up first: no duplicate)"
        )

    def create(
        self,
        path: str,
        what: str,
        data: Mapping[str, Any],
        find: Callable[[], dict | None],
        *,
        pace: str | None = None,
    ) -> dict:
        """Marker-safe POST (see the module docstring)."""

        def send() -> dict:
            if pace:
                self.pacer.acquire(pace)
            # No transient retry inside python-gitlab: a retried POST could duplicate.
            return self._write(
                path,
                lambda target: one_object(
                    self.gl.http_post(
                        target,
                        post_data=dict(data),
                        retry_transient_errors=False,
                        max_retries=self.max_retries,  # still obeys 429 Retry-After, as reads do
                    )
                ),
            )

        return self._retry_safe(what, send, find)
