"""The only code that talks to GitLab (ARCHITECTURE rule 4): the package
``gl_csm.gitlab``, put together here as :class:`Gateway`.

A thin layer over python-gitlab's HTTP client that gives the services the reads and
writes they need as plain dicts, and adds what python-gitlab does not do. Its parts:

* counting.py: every HTTP request sent is counted (reads = GET/HEAD, writes = the rest)
  for ``--stats``, retries and dropped connections included;
* transport.py: the requests adapter that counts, bounds each request by a deadline and
  refuses answers that are not GitLab's JSON;
* retries.py: which failures are transient, and the retry notices;
* pacing.py: writes paced to GitLab.com's limits (issue creation 200/min, notes 60/min,
  doc/user/gitlab_com/rate_limits.md) so a large first run is slowed, not failed;
* failures.py: GitLab failures as clear errors;
* reads.py: single reads and paginated listings (pages read concurrently);
* writes.py: idempotent PUTs and *marker-safe* creates (a retried create never makes a
  duplicate; GITLAB_API_NOTES.md: python-gitlab retries POST too);
* projects.py, labels.py, repository.py, issues.py: the calls on each kind of object.

Every name that was imported from this module still is (``__all__``).
"""

from __future__ import annotations

from collections.abc import Mapping

import gitlab
from requests.adapters import BaseAdapter, HTTPAdapter

from gl_csm.gitlab.counting import CallCounter, Stats
from gl_csm.gitlab.issues import IssueCalls
from gl_csm.gitlab.labels import LabelCalls
from gl_csm.gitlab.pacing import Pacer
from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.projects import ProjectCalls
from gl_csm.gitlab.reads import PER_PAGE, READ_WORKERS
from gl_csm.gitlab.repository import RepositoryCalls
from gl_csm.gitlab.retries import MAX_RETRIES, RetryNotices
from gl_csm.gitlab.transport import CountingAdapter, SameOriginOnly

# What other modules import from here (the mixins' own modules hold the rest).
__all__ = [
    "MAX_RETRIES",
    "SANDBOX_URL",
    "CallCounter",
    "CountingAdapter",
    "Gateway",
    "Pacer",
    "Stats",
    "enc",
]

SANDBOX_URL = "https://sandbox.gl-csm.invalid"


class Gateway(IssueCalls, RepositoryCalls, LabelCalls, ProjectCalls):
    """Reads and writes against one GitLab (or the sandbox), counted and paced. The
    calls live in the mixins named above; ``__init__`` stays here so that
    ``gateway.MAX_RETRIES`` is the value a new gateway takes."""

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
        # What this run's race checks listed, by project and state (issues.py _raced_by).
        self.races = {}
        # user id -> username of the users looked up, to name dropped assignees.
        self.usernames: dict[int, str] = {}
        # Old full path (lower case) -> id of projects GitLab answered from a new path.
        self.moved_projects: dict[str, int] = {}

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
        # At most read_workers requests in flight, however many threads read.
        gl.session.mount(
            url, CountingAdapter(inner, counter, notices, deadline, in_flight=max(1, read_workers))
        )
        # Anything else (a redirect to another host) is refused before it is sent.
        for prefix in ("http://", "https://"):
            gl.session.mount(prefix, SameOriginOnly(url))
        return cls(gl, counter, pacer=Pacer(pace or {}), read_workers=read_workers, notices=notices)

    @classmethod
    def for_transport(cls, transport: BaseAdapter, url: str = SANDBOX_URL) -> Gateway:
        """A gateway whose requests go to an in-process transport (the sandbox)."""
        return cls.connect(url, "sandbox", transport=transport)

    @property
    def stats(self) -> Stats:
        return self.counter.snapshot()

    def close(self) -> None:
        self.gl.session.close()
