"""Transient failures and retry notices: which answers python-gitlab retries, how
many times, and the messages that say so ("GitLab answered 502, retry 2/8 in 0.4 s").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import gitlab
import gitlab.const
import requests

# python-gitlab backs off 0.1 s * 2**n between retries (Retry-After wins on 429): 8
# retries ride out about 25 s of outage; its default of 10 keeps a user waiting ~100 s
# before "could not reach GitLab".
MAX_RETRIES = 8
#: Tries of a request whose connection is refused: nothing listens at that address (a
#: wrong URL or port, a stopped `sandbox serve`), which waiting does not change; one
#: retry rides out a GitLab restarting behind its proxy. 5xx and 429 keep MAX_RETRIES.
REFUSED_TRIES = 2


class ConnectionRefused(requests.RequestException):
    """The connection was refused REFUSED_TRIES times: given up at once. Not a
    ``requests.ConnectionError``, which python-gitlab would retry MAX_RETRIES times."""


def is_refused(exc: BaseException) -> bool:
    """Whether a requests failure is, underneath, a refused TCP connection (urllib3 keeps
    the socket error as the ``reason`` of its MaxRetryError, or as a cause)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError):
            return True
        todo.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


#: Answers python-gitlab retries (429 always; 5xx with retry_transient_errors).
RETRY_STATUSES = frozenset({429, *gitlab.const.RETRYABLE_TRANSIENT_ERROR_CODES})


class RetryNotices:
    """Says when a request is retried and how long it waits ("GitLab answered 502,
    retry 2/8 in 0.4 s"), so an outage or a rate limit is not silence.

    python-gitlab retries inside its own loop without a hook, so the transport reports
    each failed answer and this predicts python-gitlab's next step as it computes it
    (gitlab/utils.py ``Retry``: ``Retry-After`` when sent, else 0.1 s * 2**n). POSTs
    are retried by :meth:`Gateway._retry_safe` (tenacity), which reports its own.
    ``notify`` None: silent (library use, tests)."""

    def __init__(self) -> None:
        self.notify: Callable[[str], None] | None = None
        self.limit: Callable[[], int] = lambda: MAX_RETRIES
        self._local = threading.local()

    def _counts(self) -> dict[tuple[str, str], int]:
        if not hasattr(self._local, "counts"):
            self._local.counts = {}
        return self._local.counts  # type: ignore[no-any-return]

    def _refusals(self) -> dict[tuple[str, str], int]:
        if not hasattr(self._local, "refusals"):
            self._local.refusals = {}
        return self._local.refusals  # type: ignore[no-any-return]

    def refused(self, method: str, url: str) -> bool:
        """A refused connection for this request: True when it is to be given up now
        (the REFUSED_TRIES-th refusal in a row), else the one retry is said."""
        key = (method, url.split("?")[0])
        refusals = self._refusals()
        n = refusals.get(key, 0) + 1
        if n >= REFUSED_TRIES:
            refusals.pop(key, None)
            self._counts().pop(key, None)
            return True
        refusals[key] = n
        if self.notify is not None:
            # python-gitlab's first back-off (gitlab/utils.py ``Retry.handle_retry``).
            self.notify(f"GitLab refused the connection, retry {n}/{REFUSED_TRIES - 1} in 0.1 s")
        return False

    def answered(self, method: str, url: str, status: int | None, headers: Any, error: str) -> None:
        key = (method, url.split("?")[0])
        counts = self._counts()
        self._refusals().pop(key, None)
        if status is not None and status not in RETRY_STATUSES:
            counts.pop(key, None)
            return
        if self.notify is None or (method == "POST" and status != 429):
            return
        n = counts.get(key, 0) + 1
        if n > self.limit():
            counts.pop(key, None)  # python-gitlab gives up: the error is reported
            return
        counts[key] = n
        wait = 0.1 * 2 ** (n - 1)
        after = (headers or {}).get("Retry-After")
        if after is not None and str(after).isdigit():
            wait = float(after)
        what = f"GitLab answered {status}" if status else f"could not reach GitLab ({error})"
        self.notify(f"{what}, retry {n}/{self.limit()} in {wait:g} s")


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "response_code", None)


def _is_transient(exc: BaseException) -> bool:
    """Failures after which a write may or may not have happened at GitLab."""
    if isinstance(
        exc,
        requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError,
    ):
        return True
    code = _status(exc)
    return (
        isinstance(exc, gitlab.GitlabError) and code in gitlab.const.RETRYABLE_TRANSIENT_ERROR_CODES
    )
