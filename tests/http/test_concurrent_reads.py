"""Listing pages read at once, through python-gitlab against the sandbox.

Follows doc/api/rest/_index.md "Offset-based pagination" (a page asked by number with
the listing's own filters) and "Pagination response headers" (above 10,000 rows no
x-total / x-total-pages: the reader cannot know the last page in advance).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter, pagination

PROJECT = "customer-success/accounts"
ENCODED = PROJECT.replace("/", "%2F")


class Overlap(SandboxAdapter):
    """Records the requests and the most that were in flight at once. A page after
    the first waits (bounded) for company, so readers that run at once are seen
    together whatever the scheduling; a lone reader just times out and goes on."""

    def __init__(self, sandbox: Sandbox, expect: int) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self._together = threading.Barrier(expect)
        self.in_flight = 0
        self.peak = 0
        self.pages: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        query = parse_qs(urlsplit(request.url or "").query)
        page = query.get("page", ["1"])[0]
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.pages.append(page)
        try:
            if page != "1":
                with contextlib.suppress(threading.BrokenBarrierError):
                    self._together.wait(timeout=2)
            return super().send(request, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


def _sandbox(rows: int) -> Sandbox:
    sb = Sandbox()
    sb.seed(projects=[(PROJECT, "private")], users=[])
    gw = Gateway.for_transport(SandboxAdapter(sb))
    for i in range(rows):
        gw.gl.http_post(f"/projects/{ENCODED}/issues", post_data={"title": f"i{i}"})
    return sb


@pytest.fixture
def sandbox() -> Sandbox:
    return _sandbox(23)


def _gateway(adapter: SandboxAdapter, workers: int) -> Gateway:
    return Gateway.connect("https://sandbox.test", "t", transport=adapter, read_workers=workers)


def test_pages_after_the_first_are_read_at_once_counted_once(sandbox: Sandbox) -> None:
    adapter = Overlap(sandbox, expect=4)
    gw = _gateway(adapter, 4)
    issues = gw.issues(PROJECT, state="all", per_page=5)
    assert [i["title"] for i in issues] == [f"i{i}" for i in range(22, -1, -1)]  # page order
    assert gw.stats.reads == 5 and adapter.pages[0] == "1"  # page 1 first, alone
    assert sorted(adapter.pages[1:]) == ["2", "3", "4", "5"]
    assert adapter.peak == 4


def test_one_worker_reads_one_page_at_a_time(sandbox: Sandbox) -> None:
    adapter = Overlap(sandbox, expect=2)
    gw = _gateway(adapter, 1)
    assert len(gw.issues(PROJECT, state="all", per_page=5)) == 23
    assert gw.stats.reads == 5 and adapter.peak == 1


@pytest.mark.parametrize(("rows", "reads"), [(23, 5), (20, 5), (16, 5), (25, 5), (26, 9)])
def test_without_counts_pages_are_read_in_waves(
    monkeypatch: pytest.MonkeyPatch, rows: int, reads: int
) -> None:
    """No x-total-pages (above GitLab's count limit, lowered here): waves of 4 pages
    until one has no next page; at most 3 pages past the end are asked (empty)."""
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 1)
    gw = _gateway(SandboxAdapter(_sandbox(rows)), 4)
    issues = gw.issues(PROJECT, state="all", per_page=5)
    assert [i["title"] for i in issues] == [f"i{i}" for i in range(rows - 1, -1, -1)]
    assert gw.stats.reads == reads


def test_listings_read_from_several_threads_share_the_bound(sandbox: Sandbox) -> None:
    """Triage reads its three listings and the history at once (services/triage/run.py),
    each listing with its own page readers: the gateway still keeps at most
    ``read_workers`` requests in flight (the transport's slots)."""
    adapter = Overlap(sandbox, expect=3)  # 3 together would be seen: the bound is 2
    gw = _gateway(adapter, 2)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(gw.issues(PROJECT, per_page=5))))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [23, 23, 23] and gw.stats.reads == 15
    assert adapter.peak == 2
