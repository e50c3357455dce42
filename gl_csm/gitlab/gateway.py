"""The only code that talks to GitLab (ARCHITECTURE rule 4).

A thin layer over python-gitlab's HTTP client that gives the services the reads and
writes they need as plain dicts, and adds what python-gitlab does not do:

* every HTTP request sent is counted (reads = GET/HEAD, writes = the rest) for
  ``--stats``, retries and dropped connections included;
* creates are *marker-safe*: a POST is sent without python-gitlab's transient retry,
  and when it fails in a way that may have reached GitLab (5xx, timeout, dropped
  connection), the object is looked up (by marker, path or title) before the POST is
  tried again, so a retried create never makes a duplicate (GITLAB_API_NOTES.md:
  python-gitlab retries POST too);
* writes are paced to GitLab.com's limits (issue creation 200/min, notes 60/min,
  doc/user/gitlab_com/rate_limits.md) so a large first run is slowed, not failed.

Reads rely on python-gitlab's own ``obey_rate_limit`` (429 + Retry-After) and
``retry_transient_errors`` (5xx, timeouts, connection errors), in pages of 100.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import gitlab
import gitlab.const
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from gl_csm import markers
from gl_csm.errors import ConfigError, GitLabError, GitLabUnreachable, PartialWrite
from gl_csm.templates import inert_commands
from gl_csm.urls import redact_url

T = TypeVar("T")
SANDBOX_URL = "https://sandbox.gl-csm.invalid"
PER_PAGE = 100  # the maximum GitLab allows (doc/api/rest/_index.md)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Listing pages read at once by default (rules.pacing.read_workers).
READ_WORKERS = 4
# python-gitlab backs off 0.1 s * 2**n between retries (Retry-After wins on 429): 8
# retries ride out about 25 s of outage; its default of 10 keeps a user waiting ~100 s
# before "could not reach GitLab".
MAX_RETRIES = 8

# Access levels (doc/api/members.md).
GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50


@dataclass(frozen=True)
class Stats:
    reads: int
    writes: int

    def to_json(self) -> dict[str, int]:
        return {"reads": self.reads, "writes": self.writes}


class CallCounter:
    """Thread-safe counts of the HTTP requests actually sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0

    def count(self, method: str) -> None:
        with self._lock:
            if method.upper() in READ_METHODS:
                self.reads += 1
            else:
                self.writes += 1

    def snapshot(self) -> Stats:
        with self._lock:
            return Stats(self.reads, self.writes)


#: Answers python-gitlab retries (429 always; 5xx with retry_transient_errors).
RETRY_STATUSES = frozenset({429, *gitlab.const.RETRYABLE_TRANSIENT_ERROR_CODES})


class RetryNotices:
    """Says when a request is retried and how long it waits ("GitLab answered 502,
    retry 2/8 in 0.4 s"), so an outage or a rate limit is not silence (issue 11).

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

    def answered(self, method: str, url: str, status: int | None, headers: Any, error: str) -> None:
        key = (method, url.split("?")[0])
        counts = self._counts()
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


class DeadlineExceeded(requests.RequestException):
    """No complete answer within the request deadline. Not a ``Timeout``: python-gitlab
    would retry that, and a trickling server would then hold a run for retries x
    deadline (issue 10)."""


class NotGitLab(requests.RequestException):
    """A 2xx answer of the API that is not JSON: a login page, a proxy, a wrong URL."""


def _api_json_expected(request: requests.PreparedRequest) -> bool:
    path = (request.path_url or "").split("?", 1)[0]
    return "/api/v4/" in path and not path.endswith("/raw")


class CountingAdapter(BaseAdapter):
    """Counts each request as it leaves, then hands it to the real transport; with a
    ``deadline`` (seconds) a request that has not fully answered by then is abandoned,
    and a 2xx API answer that is not JSON is refused (NotGitLab)."""

    def __init__(
        self,
        inner: BaseAdapter,
        counter: CallCounter,
        notices: RetryNotices | None = None,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.counter = counter
        self.notices = notices or RetryNotices()
        self.deadline = deadline

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        method = request.method or "GET"
        self.counter.count(method)
        try:
            response = (
                self.inner.send(request, **kwargs)
                if self.deadline is None or kwargs.get("stream")
                else self._within_deadline(request, self.deadline, kwargs)
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
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


class Pacer:
    """Spaces writes of one kind to at most N per minute (0 = no pacing).

    A first run over a large portfolio creates many issues and notes; GitLab.com
    answers 429 past 200 issues/min and 60 notes/min per user, and some of its APIs
    send no Retry-After. Spacing writes evenly keeps the run under the limit instead.
    """

    def __init__(
        self,
        per_minute: Mapping[str, int],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = {k: 60.0 / v for k, v in per_minute.items() if v and v > 0}
        self._next: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, kind: str) -> None:
        interval = self._interval.get(kind)
        if interval is None:
            return
        with self._lock:
            now = self._clock()
            at = max(now, self._next.get(kind, now))
            self._next[kind] = at + interval
        if at > now:
            self._sleep(at - now)


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


def _carries(text: str | None, marker_token: str) -> bool:
    """Whether ``text`` carries exactly this marker token (not one it is a prefix of)."""
    return any(f"gl-csm:{k}:{v}" == marker_token for k, v in markers.markers_in(text))


def enc(path_or_id: str | int) -> str:
    """A project/group id, or its full path URL-encoded (doc/api/rest/_index.md)."""
    return str(path_or_id) if isinstance(path_or_id, int) else quote(str(path_or_id), safe="")


class Gateway:
    """Reads and writes against one GitLab (or the sandbox), counted and paced."""

    def __init__(
        self,
        gl: gitlab.Gitlab,
        counter: CallCounter,
        *,
        pacer: Pacer | None = None,
        create_attempts: int = 6,
        create_wait_max: float = 8.0,
        read_workers: int = READ_WORKERS,
        notices: RetryNotices | None = None,
    ) -> None:
        self.gl = gl
        self.retry_notices = notices or RetryNotices()
        self.retry_notices.limit = lambda: self.max_retries
        self.read_workers = read_workers
        self.counter = counter
        self.max_retries = MAX_RETRIES
        self.pacer = pacer or Pacer({})
        self._create_attempts = create_attempts
        self._create_wait_max = create_wait_max
        # user id -> username of the users looked up, to name dropped assignees.
        self.usernames: dict[int, str] = {}

    # -- construction -------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        url: str,
        token: str,
        *,
        pace: Mapping[str, int] | None = None,
        timeout: float = 30.0,
        transport: BaseAdapter | None = None,
        read_workers: int = READ_WORKERS,
        deadline: float | None = None,
    ) -> Gateway:
        """A gateway to a real GitLab (or ``gl-csm sandbox serve``) at ``url``;
        ``read_workers``: listing pages read at once."""
        counter = CallCounter()
        gl = gitlab.Gitlab(
            url,
            private_token=token,
            timeout=timeout,
            per_page=PER_PAGE,
            retry_transient_errors=True,
            keep_base_url=True,
        )
        # One kept-alive connection per reading thread (urllib3's pool keeps 10).
        inner = transport or HTTPAdapter(pool_maxsize=max(10, read_workers))
        notices = RetryNotices()
        gl.session.mount(url, CountingAdapter(inner, counter, notices, deadline))
        return cls(gl, counter, pacer=Pacer(pace or {}), read_workers=read_workers, notices=notices)

    @classmethod
    def for_transport(cls, transport: BaseAdapter, url: str = SANDBOX_URL) -> Gateway:
        """A gateway whose requests go to an in-process transport (the sandbox)."""
        return cls.connect(url, "sandbox", transport=transport)

    @property
    def stats(self) -> Stats:
        return self.counter.snapshot()

    @property
    def url(self) -> str:
        """GitLab's URL as it may be shown or posted: without credentials (issue 10)."""
        return redact_url(self.gl.url)

    def close(self) -> None:
        self.gl.session.close()

    # -- low level ----------------------------------------------------------------

    def _convert(self, what: str, exc: BaseException) -> Exception:
        """A GitLab failure as a message that names the object and GitLab's answer."""
        if isinstance(exc, gitlab.GitlabAuthenticationError):
            return ConfigError(
                f"GitLab at {self.url} rejected the token in GITLAB_TOKEN (401 Unauthorized): "
                f"check that it is valid and has the api scope"
            )
        if isinstance(exc, DeadlineExceeded | NotGitLab):
            # issue 10: a clear exit 2 (check the URL or the network), not a crash or a hang.
            return GitLabUnreachable(
                f"{what}: GitLab at {self.url} {exc}; check GITLAB_URL (the GitLab root, "
                f"not a login page or a proxy) and the network"
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
        except (
            gitlab.GitlabError,
            requests.ConnectionError,
            requests.Timeout,
            DeadlineExceeded,
            NotGitLab,
        ) as exc:
            raise self._convert(what, exc) from exc

    def get(self, path: str, what: str, **query: Any) -> dict | None:
        """GET one object; None on 404."""

        def call() -> dict | None:
            try:
                return self.gl.http_get(  # type: ignore[return-value]
                    path, query_data=query or None, max_retries=self.max_retries
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return None
                raise

        return self._wrap(what, call)

    def list(self, path: str, what: str, **query: Any) -> list[dict]:
        """Every page of a listing, 100 at a time, in page order.

        With ``read_workers`` > 1 the pages after the first are read by that many
        threads at once (issue 13: a 5,000-account portfolio lists ~100 pages; one at a
        time its wall time is pages x latency). Each request still obeys 429
        Retry-After and retries transient errors (python-gitlab), and is counted once.
        """
        query.setdefault("per_page", PER_PAGE)

        def call() -> list[dict]:
            if self.read_workers <= 1:
                pages = self.gl.http_list(
                    path, query_data=query, iterator=True, max_retries=self.max_retries
                )
                return list(pages)  # type: ignore[arg-type]
            return self._read_pages(path, query)

        return self._wrap(what, call)

    def scan(self, path: str, what: str, **query: Any) -> Iterator[dict]:
        """A listing read lazily, a page of 100 per request, so a search for one item
        stops reading at the page that holds it."""
        query.setdefault("per_page", PER_PAGE)
        pages = self._wrap(
            what,
            lambda: self.gl.http_list(
                path, query_data=query, iterator=True, max_retries=self.max_retries
            ),
        )
        iterator = iter(pages)  # type: ignore[call-overload]
        while True:
            try:
                item = self._wrap(what, lambda: next(iterator))
            except StopIteration:
                return
            yield item

    def _page(
        self, path: str, query: Mapping[str, Any], number: int
    ) -> tuple[list[dict], bool, int | None]:
        """One page of a listing, whether another follows, and x-total-pages if sent."""
        # Page 1 is asked as the sequential reader asks it: without `page`.
        data = {**query, "page": number} if number > 1 else dict(query)
        response = self.gl.http_request("get", path, query_data=data, max_retries=self.max_retries)
        try:
            items = response.json()
        except ValueError as exc:
            raise gitlab.GitlabParsingError(
                error_message="Failed to parse the server message"
            ) from exc
        if not isinstance(items, list):
            raise gitlab.GitlabParsingError(error_message="expected a JSON list of objects")
        headers = response.headers
        if "X-Next-Page" in headers:
            more = bool(headers["X-Next-Page"])
        else:
            more = "next" in response.links
        pages, rows = headers.get("X-Total-Pages", ""), headers.get("X-Total", "")
        total = None
        if pages.isdigit():
            total = int(pages)
        elif rows.isdigit():
            total = -(-int(rows) // int(query["per_page"]))
        return items, more and bool(items), total

    def _read_pages(self, path: str, query: Mapping[str, Any]) -> list[dict]:
        """Page 1, then pages 2..x-total-pages by ``read_workers`` threads. Above 10,000
        rows GitLab sends no x-total-pages (doc/api/rest/_index.md, "Pagination response
        headers"): then waves of ``read_workers`` pages until one says it is the last
        (at most read_workers - 1 pages past the end are read, each an empty list)."""
        items, more, total = self._page(path, query, 1)
        if not more:
            return items

        def read(number: int) -> tuple[list[dict], bool, int | None]:
            return self._page(path, query, number)

        with ThreadPoolExecutor(self.read_workers, thread_name_prefix="gl-csm-read") as pool:
            if total is not None:
                for page_items, _, _ in pool.map(read, range(2, total + 1)):
                    items.extend(page_items)
                return items
            start = 2
            while more:
                # Every page of the wave is awaited (none cancelled): the count is exact.
                wave = list(pool.map(read, range(start, start + self.read_workers)))
                for page_items, more, _ in wave:
                    items.extend(page_items)
                    if not more:
                        break
                start += self.read_workers
        return items

    def put(self, path: str, what: str, data: Mapping[str, Any]) -> dict:
        """PUT is idempotent here (set labels, fields): python-gitlab may retry it."""
        return self._wrap(
            what,
            lambda: self.gl.http_put(  # type: ignore[return-value]
                path, post_data=dict(data), max_retries=self.max_retries
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
            return self.gl.http_post(  # type: ignore[return-value]
                path, post_data=dict(data), retry_transient_errors=False
            )

        return self._retry_safe(what, send, find)

    # -- users, groups, projects ----------------------------------------------------

    def check_connection(self) -> dict:
        """The token's user, or GitLabUnreachable (exit 2, nothing done) when GitLab
        cannot be reached or refuses the token (SPEC 7 exit codes)."""
        try:
            return self.current_user()
        except ConfigError as exc:  # 401: the token
            raise GitLabUnreachable(str(exc)) from None
        except GitLabError as exc:
            raise GitLabUnreachable(
                f"{exc}; nothing was done (check the URL, the network and GITLAB_TOKEN, "
                f"or run `gl-csm doctor`)"
            ) from None

    # -- instance and token (gl-csm doctor) ----------------------------------------

    def version(self) -> Any:
        """GET /version (doc/api/version.md): a dict with ``version`` on GitLab."""
        return self.get("/version", "read GitLab's version")

    def metadata(self) -> dict | None:
        """GET /metadata (doc/api/metadata.md): ``enterprise`` says EE or CE."""
        found = self.get("/metadata", "read GitLab's metadata")
        return found if isinstance(found, dict) else None

    def token_self(self) -> dict | None:
        """GET /personal_access_tokens/self (doc/api/personal_access_tokens.md)."""
        found = self.get("/personal_access_tokens/self", "read the token's scopes and expiry")
        return found if isinstance(found, dict) else None

    def license(self) -> dict | None:
        """GET /license (doc/api/license.md): administrators only (403 otherwise)."""
        found = self.get("/license", "read the instance's license")
        return found if isinstance(found, dict) else None

    def member_access(self, kind: str, path: str | int, user_id: int) -> int | None:
        """The user's effective access level on a group or project (inherited included,
        doc/api/members.md "members/all/:user_id"); None when not a member."""
        assert kind in ("groups", "projects")
        found = self.get(
            f"/{kind}/{enc(path)}/members/all/{user_id}", f"read {user_id}'s access to {path}"
        )
        return int(found["access_level"]) if isinstance(found, dict) else None

    def current_user(self) -> dict:
        user = self.get("/user", "read the token's user")
        assert user is not None
        return user

    def user(self, username: str) -> dict | None:
        found = self.list("/users", f"look up user {username!r}", username=username)
        if found:
            self.usernames[int(found[0]["id"])] = found[0].get("username") or username
        return found[0] if found else None

    def group(self, path: str | int) -> dict | None:
        return self.get(f"/groups/{enc(path)}", f"read group {path}")

    def project(self, path: str | int) -> dict | None:
        return self.get(f"/projects/{enc(path)}", f"read project {path}")

    def create_project(self, namespace: dict, path: str, name: str, **fields: Any) -> dict:
        full = f"{namespace['full_path']}/{path}"
        return self.create(
            "/projects",
            f"create project {full}",
            {"namespace_id": namespace["id"], "path": path, "name": name, **fields},
            find=lambda: self.project(full),
        )

    def update_project(self, project: str | int, **fields: Any) -> dict:
        return self.put(f"/projects/{enc(project)}", f"update project {project}", fields)

    def transfer_project(self, project: str | int, namespace: str | int) -> dict:
        """Move a project (doc/api/projects.md, "Transfer a project to a new namespace").

        A PUT, but not repeatable in effect: a repeat answers 400 "Project is already
        in this namespace", so after a lost answer check where the project is first.
        """
        target = str(namespace)

        def find() -> dict | None:
            now = self.project(project)
            moved = now is not None and target in (
                str(now["namespace"]["id"]),
                now["namespace"]["full_path"],
            )
            return now if moved else None

        def send() -> dict:
            return self.gl.http_put(  # type: ignore[return-value]
                f"/projects/{enc(project)}/transfer",
                post_data={"namespace": namespace},
                retry_transient_errors=False,
            )

        return self._retry_safe(f"transfer project {project} to {namespace}", send, find)

    def members(self, project: str | int, *, inherited: bool = False) -> list[dict]:
        suffix = "/members/all" if inherited else "/members"
        return self.list(f"/projects/{enc(project)}{suffix}", f"list members of {project}")

    def member(self, project: str | int, user_id: int, *, inherited: bool = False) -> dict | None:
        """One member (``/members/all/:user_id`` counts inherited membership), None when
        the user is not one (doc/api/members.md)."""
        suffix = "/members/all" if inherited else "/members"
        return self.get(
            f"/projects/{enc(project)}{suffix}/{user_id}", f"read member {user_id} of {project}"
        )

    def add_member(self, project: str | int, user_id: int, access_level: int) -> dict:
        """Add a member; an existing membership (409) is updated to the level instead."""

        def call() -> dict | None:
            try:
                return self.gl.http_post(  # type: ignore[return-value]
                    f"/projects/{enc(project)}/members",
                    post_data={"user_id": user_id, "access_level": access_level},
                    max_retries=self.max_retries,
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 409:
                    return None
                raise

        added = self._wrap(f"add member {user_id} to {project}", call)
        return added if added is not None else self.update_member(project, user_id, access_level)

    def update_member(self, project: str | int, user_id: int, access_level: int) -> dict:
        return self.put(
            f"/projects/{enc(project)}/members/{user_id}",
            f"set member {user_id} of {project} to access level {access_level}",
            {"access_level": access_level},
        )

    # -- labels ---------------------------------------------------------------------

    def group_labels(self, group: str | int) -> list[dict]:
        return self.list(
            f"/groups/{enc(group)}/labels",
            f"list labels of group {group}",
            include_ancestor_groups="true",
        )

    def project_labels(self, project: str | int) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/labels",
            f"list labels of project {project}",
            include_ancestor_groups="true",
        )

    def _create_label(self, path: str, what: str, data: Mapping[str, Any]) -> bool:
        """True when created, False when it already existed (409, doc/api/labels.md)."""

        def call() -> bool:
            try:
                self.gl.http_post(path, post_data=dict(data), max_retries=self.max_retries)
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 409:
                    return False
                raise
            return True

        return self._wrap(what, call)

    def create_group_label(self, group: str | int, name: str, color: str, description: str) -> bool:
        return self._create_label(
            f"/groups/{enc(group)}/labels",
            f"create label {name!r} in group {group}",
            {"name": name, "color": color, "description": description},
        )

    def create_project_label(
        self, project: str | int, name: str, color: str, description: str
    ) -> bool:
        return self._create_label(
            f"/projects/{enc(project)}/labels",
            f"create label {name!r} in project {project}",
            {"name": name, "color": color, "description": description},
        )

    def own_group_labels(self, group: str | int) -> list[dict]:
        """The labels of the group itself, without those inherited from its ancestors."""
        return self.list(
            f"/groups/{enc(group)}/labels",
            f"list own labels of group {group}",
            include_ancestor_groups="false",
        )

    def update_group_label(
        self, group: str | int, label_id: int, color: str, description: str
    ) -> dict:
        """PUT /groups/:id/labels/:label_id (doc/api/group_labels.md, "Update a group label")."""
        return self.put(
            f"/groups/{enc(group)}/labels/{label_id}",
            f"update label {label_id} in group {group}",
            {"color": color, "description": description},
        )

    def update_project_label(
        self, project: str | int, label_id: int, color: str, description: str
    ) -> dict:
        """PUT /projects/:id/labels/:label_id (doc/api/labels.md, "Edit an existing label")."""
        return self.put(
            f"/projects/{enc(project)}/labels/{label_id}",
            f"update label {label_id} in project {project}",
            {"color": color, "description": description},
        )

    # -- issue boards (doc/api/boards.md) ------------------------------------------

    def project_boards(self, project: str | int) -> list[dict]:
        return self.list(f"/projects/{enc(project)}/boards", f"list boards of {project}")

    def create_project_board(self, project: str | int, name: str) -> dict:
        """A board, found again by name after a lost answer (boards carry no marker)."""

        def find() -> dict | None:
            same = [b for b in self.project_boards(project) if b.get("name") == name]
            return same[0] if same else None

        return self.create(
            f"/projects/{enc(project)}/boards",
            f"create board {name!r} in {project}",
            {"name": name},
            find=find,
        )

    def create_board_list(self, project: str | int, board_id: int, label_id: int) -> dict:
        """A label list; GitLab refuses a second list of one label, so a retry is safe."""
        path = f"/projects/{enc(project)}/boards/{board_id}/lists"

        def find() -> dict | None:
            for item in self.list(path, f"list lists of board {board_id} of {project}"):
                if (item.get("label") or {}).get("id") == label_id:
                    return item
            return None

        return self.create(
            path,
            f"add list {label_id} to board {board_id} of {project}",
            {"label_id": label_id},
            find=find,
        )

    # -- repository -----------------------------------------------------------------

    def tree(self, project: str | int, ref: str | None = None) -> list[dict]:
        query: dict[str, Any] = {"recursive": "true"}
        if ref:
            query["ref"] = ref
        return self.list(
            f"/projects/{enc(project)}/repository/tree", f"list files of {project}", **query
        )

    def folder(self, project: str | int, path: str, ref: str) -> list[dict]:
        """The entries of one folder (not recursive); [] for an empty repository or a
        folder that does not exist (doc/api/repositories.md: 404 ``Tree Not Found``)."""

        def call() -> list[dict]:
            try:
                pages = self.gl.http_list(
                    f"/projects/{enc(project)}/repository/tree",
                    query_data={"path": path, "ref": ref, "per_page": PER_PAGE},
                    iterator=True,
                    max_retries=self.max_retries,
                )
                return list(pages)  # type: ignore[arg-type]
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return []
                raise

        return self._wrap(f"list {path}/ of {project}", call)

    def file_text(self, project: str | int, file_path: str, ref: str) -> str | None:
        def call() -> str | None:
            try:
                raw = self.gl.http_get(
                    f"/projects/{enc(project)}/repository/files/{quote(file_path, safe='')}/raw",
                    query_data={"ref": ref},
                    raw=True,
                    max_retries=self.max_retries,
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return None
                raise
            return raw.content.decode("utf-8")  # type: ignore[union-attr]

        return self._wrap(f"read {file_path} of {project}", call)

    def commits(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/repository/commits", f"list commits of {project}", **query
        )

    def commit(
        self,
        project: str | int,
        branch: str,
        message: str,
        actions: list[dict],
        marker_token: str,
        *,
        start_branch: str | None = None,
        force: bool = False,
    ) -> dict:
        """One commit with many file actions (doc/api/commits.md); the marker token in
        the message finds it again after a lost answer. ``start_branch`` creates
        ``branch`` from it; with ``force`` an existing ``branch`` is reset onto it."""

        def find() -> dict | None:
            recent = self.get(
                f"/projects/{enc(project)}/repository/commits",
                f"list commits of {project}",
                ref_name=branch,
                per_page=20,
            )
            for c in recent or []:  # type: ignore[union-attr]
                if marker_token in (c.get("message") or ""):
                    return c
            return None

        return self.create(
            f"/projects/{enc(project)}/repository/commits",
            f"commit {len(actions)} files to {project}",
            {
                "branch": branch,
                "commit_message": message,
                "actions": actions,
                **({"start_branch": start_branch} if start_branch else {}),
                **({"force": True} if force else {}),
            },
            find=find,
        )

    def branch(self, project: str | int, name: str) -> dict | None:
        """doc/api/branches.md "Get single repository branch"; None when absent."""
        return self.get(
            f"/projects/{enc(project)}/repository/branches/{quote(name, safe='')}",
            f"read branch {name} of {project}",
        )

    def merge_requests(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/merge_requests", f"list merge requests of {project}", **query
        )

    def create_merge_request(
        self, project: str | int, source: str, target: str, title: str, **fields: Any
    ) -> dict:
        """doc/api/merge_requests.md "Create MR"; after a lost answer, the open MR of
        the same source branch is the one that was created."""

        def find() -> dict | None:
            found = self.merge_requests(project, state="opened", source_branch=source)
            return found[0] if found else None

        return self.create(
            f"/projects/{enc(project)}/merge_requests",
            f"open a merge request from {source} in {project}",
            {"source_branch": source, "target_branch": target, "title": title, **fields},
            find=find,
        )

    def update_merge_request(self, project: str | int, iid: int, **fields: Any) -> dict:
        return self.put(
            f"/projects/{enc(project)}/merge_requests/{iid}",
            f"update merge request {project}!{iid}",
            fields,
        )

    # -- milestones -----------------------------------------------------------------

    def milestones(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/milestones", f"list milestones of {project}", **query
        )

    def create_milestone(self, project: str | int, title: str, **fields: Any) -> dict:
        def find() -> dict | None:
            same = [m for m in self.milestones(project, title=title) if m.get("title") == title]
            return same[0] if same else None

        return self.create(
            f"/projects/{enc(project)}/milestones",
            f"create milestone {title!r} in {project}",
            {"title": title, **fields},
            find=find,
        )

    # -- issues ---------------------------------------------------------------------

    def issues(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(f"/projects/{enc(project)}/issues", f"list issues of {project}", **query)

    def issue(self, project: str | int, iid: int) -> dict | None:
        return self.get(f"/projects/{enc(project)}/issues/{iid}", f"read issue {project}#{iid}")

    def issues_by_iid(
        self, project: str | int, iids: Iterable[int], *, state: str = "all"
    ) -> list[dict]:
        """The issues with these iids, in one listing (doc/api/issues.md ``iids[]``)."""
        wanted = sorted({int(i) for i in iids})
        if not wanted:
            return []
        return self.list(
            f"/projects/{enc(project)}/issues",
            f"read issues {project}#{','.join(map(str, wanted))}",
            state=state,
            **{"iids[]": wanted},
        )

    def find_issue_by_marker(
        self,
        project: str | int,
        marker_token: str,
        *,
        state: str = "all",
        narrow: Iterable[Mapping[str, Any]] = (),
        newest_first: bool = False,
    ) -> dict | None:
        """The issue carrying this exact marker, never trusting GitLab's search.

        GitLab's issue search is full-text (``app/models/concerns/pg_full_text_searchable.rb``):
        an HTML comment is not indexed, so a marker is never found by ``search``
        (ARCHITECTURE rule 3). Each ``narrow`` query (labels, assignee, a title search...)
        is a cheap first try; only the marker decides. When none holds it, every page of
        the project's issues is read until the marker shows up, so an empty or partial
        narrowed answer never leads to a create. Oldest first, so when a person copied a
        bot issue the bot keeps the one it made (as :func:`markers.index_by_marker`);
        ``newest_first`` after a lost create answer, where the issue is the latest one.
        """
        for query in narrow:
            found = self.issues(project, state=state, **query)
            mine = [i for i in found if _carries(i.get("description"), marker_token)]
            if mine:
                return min(mine, key=lambda i: i["id"])
        order = "desc" if newest_first else "asc"
        for issue in self.scan(
            f"/projects/{enc(project)}/issues",
            f"list issues of {project}",
            state=state,
            order_by="created_at",
            sort=order,
        ):
            if _carries(issue.get("description"), marker_token):
                return issue
        return None

    def create_issue(
        self,
        project: str | int,
        title: str,
        description: str,
        marker_token: str,
        *,
        reuses_marker: bool = False,
        **fields: Any,
    ) -> dict:
        """Marker-safe issue creation. ``reuses_marker``: the marker stands for one
        episode at a time (triage, escalation issues of an account), so after a lost
        answer only an *open* issue with it counts; a closed one is an earlier episode."""
        if marker_token not in description:
            raise ValueError("a bot issue must carry its marker in the description")
        description = inert_commands(description)  # issue 10: no quick action runs
        state = "opened" if reuses_marker else "all"
        made = self.create(
            f"/projects/{enc(project)}/issues",
            f"create issue {title!r} in {project}",
            {"title": title, "description": description, **fields},
            find=lambda: self.find_issue_by_marker(
                project, marker_token, state=state, newest_first=True
            ),
            pace="issues",
        )
        self._check_assignees(f"{project}#{made.get('iid')} created", made, fields)
        return made

    def update_issue(self, project: str | int, iid: int, **fields: Any) -> dict:
        if isinstance(fields.get("description"), str):
            fields["description"] = inert_commands(fields["description"])
        updated = self.put(
            f"/projects/{enc(project)}/issues/{iid}", f"update issue {project}#{iid}", fields
        )
        self._check_assignees(f"{project}#{iid} updated", updated, fields)
        return updated

    def _check_assignees(self, what: str, issue: dict, fields: Mapping[str, Any]) -> None:
        """The assignees GitLab kept, read from the create/update answer (no extra read).

        ``app/services/issuable_base_service.rb`` drops, without an error, assignees who
        cannot read the project, keeps only the first one on Free, and on an update that
        leaves nobody keeps the old assignees: a write that "succeeded" may not have
        assigned anyone. A dropped assignee is a named failure (:class:`PartialWrite`),
        never a silent success; the issue itself stays written.
        """
        if "assignee_ids" not in fields or not isinstance(issue, Mapping):
            return
        wanted = [int(i) for i in fields["assignee_ids"] or []]
        kept = {int(a["id"]) for a in issue.get("assignees") or [] if "id" in a}
        dropped = [i for i in wanted if i not in kept]
        if not dropped:
            return
        names = ", ".join(self.usernames.get(i, f"user id {i}") for i in dropped)
        raise PartialWrite(
            issue,
            f"issue {what}, but GitLab did not assign {names}: a user who cannot read the "
            f"project is dropped (add them as members of it), and GitLab Free keeps only the "
            f"first assignee (set gitlab_edition: premium only on a Premium instance)",
        )

    # -- notes ----------------------------------------------------------------------

    def notes(
        self, project: str | int, iid: int, *, kind: str = "issues", **query: Any
    ) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/{kind}/{iid}/notes",
            f"list notes of {project}#{iid}",
            **query,
        )

    def create_note(
        self,
        project: str | int,
        iid: int,
        body: str,
        marker_token: str,
        *,
        kind: str = "issues",
        internal: bool = False,
    ) -> dict:
        if marker_token not in body:
            raise ValueError("a bot note must carry its marker")
        body = inert_commands(body)  # issue 10: no quick action runs as the bot

        def find() -> dict | None:
            for note in self.notes(project, iid, kind=kind):
                if _carries(note.get("body"), marker_token):
                    return note
            return None

        data: dict[str, Any] = {"body": body}
        if internal:
            data["internal"] = True
        return self.create(
            f"/projects/{enc(project)}/{kind}/{iid}/notes",
            f"comment on {project}#{iid}",
            data,
            find=find,
            pace="notes",
        )

    def update_note(
        self, project: str | int, iid: int, note_id: int, body: str, *, kind: str = "issues"
    ) -> dict:
        return self.put(
            f"/projects/{enc(project)}/{kind}/{iid}/notes/{note_id}",
            f"update note {note_id} on {project}#{iid}",
            {"body": inert_commands(body)},
        )

    # -- merge requests -------------------------------------------------------------

    def merge_request(self, project: str | int, iid: int) -> dict | None:
        return self.get(
            f"/projects/{enc(project)}/merge_requests/{iid}", f"read merge request {project}!{iid}"
        )

    def merge_request_diffs(self, project: str | int, iid: int) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/merge_requests/{iid}/diffs",
            f"list changes of merge request {project}!{iid}",
        )
