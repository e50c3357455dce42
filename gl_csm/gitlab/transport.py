"""The requests transport under python-gitlab: counts each request as it leaves, bounds
it by a deadline, refuses a 2xx API answer that is not JSON, and reports each failed
answer to the retry notices.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

from gl_csm.gitlab.counting import CallCounter
from gl_csm.gitlab.retries import ConnectionRefused, RetryNotices, is_refused


class DeadlineExceeded(requests.RequestException):
    """No complete answer within the request deadline. Not a ``Timeout``: python-gitlab
    would retry that, and a trickling server would then hold a run for retries x
    deadline."""


class NotGitLab(requests.RequestException):
    """A 2xx answer of the API that is not JSON: a login page, a proxy, a wrong URL."""


class RedirectedAway(requests.RequestException):
    """GitLab's URL redirected to another origin. requests drops only ``Authorization``
    when a redirect changes host (``Session.rebuild_auth``), not python-gitlab's
    ``PRIVATE-TOKEN``, so the request is refused before it leaves: the token is never
    sent across origins."""


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one made explicit): what "same origin" means."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class SameOriginOnly(BaseAdapter):
    """Mounted for every URL that is not GitLab's (``http://`` and ``https://``), so the
    only requests it sees are redirects away from GitLab: each one is refused, named,
    before a byte (or the token) is sent."""

    def __init__(self, home: str) -> None:
        super().__init__()
        self.home = home

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        scheme, host, port = origin(request.url or "")
        where = "another host" if (scheme, host, port) != origin(self.home) else "another path"
        raise RedirectedAway(
            f"redirected to {where} ({scheme}://{host}:{port}), outside GitLab's URL; the "
            f"token is never sent there",
            request=request,
        )

    def close(self) -> None:
        pass


def _api_json_expected(request: requests.PreparedRequest) -> bool:
    path = (request.path_url or "").split("?", 1)[0]
    return "/api/v4/" in path and not path.endswith("/raw")


class CountingAdapter(BaseAdapter):
    """Counts each request as it leaves, then hands it to the real transport; with a
    ``deadline`` (seconds) a request that has not fully answered by then is abandoned,
    and a 2xx API answer that is not JSON is refused (NotGitLab).

    ``in_flight``: at most that many requests on the wire at once, whatever number of
    threads send them (a triage run reads its listings and the history at
    the same time, each listing with ``read_workers`` threads; the bound stays
    ``rules.pacing.read_workers``). A retry's wait (python-gitlab sleeps between
    attempts) holds no slot."""

    def __init__(
        self,
        inner: BaseAdapter,
        counter: CallCounter,
        notices: RetryNotices | None = None,
        deadline: float | None = None,
        in_flight: int | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.counter = counter
        self.notices = notices or RetryNotices()
        self.deadline = deadline
        self.slots = threading.BoundedSemaphore(in_flight) if in_flight else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.slots is None:
            return self._send(request, **kwargs)
        with self.slots:
            return self._send(request, **kwargs)

    def _send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        method = request.method or "GET"
        self.counter.count(method)
        try:
            response = (
                self.inner.send(request, **kwargs)
                if self.deadline is None or kwargs.get("stream")
                else self._within_deadline(request, self.deadline, kwargs)
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if is_refused(exc):
                if self.notices.refused(method, request.url or ""):
                    raise ConnectionRefused("connection refused", request=request) from exc
                raise
            self.notices.answered(method, request.url or "", None, None, type(exc).__name__)
            raise
        self.notices.answered(method, request.url or "", response.status_code, response.headers, "")
        if (
            200 <= response.status_code < 300
            and response.status_code != 204
            and _api_json_expected(request)
            and "json" not in (response.headers.get("Content-Type") or "").lower()
        ):
            kind = (response.headers.get("Content-Type") or "no content type").split(";")[0]
            response.close()
            raise NotGitLab(
                f"answered {response.status_code} with {kind}, not the JSON of GitLab's API",
                request=request,
            )
        return response

    def _within_deadline(
        self, request: requests.PreparedRequest, deadline: float, kwargs: dict[str, Any]
    ) -> requests.Response:
        """Send and read the whole body in a helper thread; give up at the deadline
        (socket timeouts restart with each byte, so they cannot bound a trickle)."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                response = self.inner.send(request, **{**kwargs, "stream": True})
                _ = response.content  # the whole body, inside the deadline
                box["response"] = response
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc

        worker = threading.Thread(target=work, name="gl-csm-request", daemon=True)
        worker.start()
        worker.join(deadline)
        if worker.is_alive():
            # The helper stays blocked on the socket until the server lets go; it holds
            # nothing the run needs (its connection is not returned to the pool).
            raise DeadlineExceeded(
                f"no complete answer within {deadline:g} s (rules.pacing.request_deadline_seconds)",
                request=request,
            )
        if "error" in box:
            raise box["error"]
        return box["response"]

    def close(self) -> None:
        self.inner.close()
