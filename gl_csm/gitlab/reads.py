"""Reads: one object (None on 404), and listings of every page, 100 at a time, read by
``read_workers`` threads at once, or lazily page by page (``scan``).

Reads rely on python-gitlab's own ``obey_rate_limit`` (429 + Retry-After) and
``retry_transient_errors`` (5xx, timeouts, connection errors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gitlab

from gl_csm.gitlab.failures import GitLabCalls, list_of_objects, one_object
from gl_csm.gitlab.paths import project_ref, with_project_id

PER_PAGE = 100  # the maximum GitLab allows (doc/api/rest/_index.md)
#: Listing pages read at once by default (rules.pacing.read_workers).
READ_WORKERS = 4


class Reads(GitLabCalls):
    #: Lower-cased old full path -> id of the projects GitLab answered from another path.
    moved_projects: dict[str, int]

    def _by_id(self, path: str) -> str:
        """``path`` with a moved project named by its id: GitLab answers a GET by the old
        path with a 301 (one more request each time) and refuses any other method with
        405 (lib/api/helpers.rb ``find_project!``, GitLab 16.7+)."""
        ref = project_ref(path)
        pid = self.moved_projects.get(ref.lower()) if ref is not None else None
        return with_project_id(path, pid) if pid is not None else path

    def _learn(self, path: str, found: Any) -> None:
        """Remember a project that a GET by path answered from another path (python-gitlab
        follows the 301 of a moved project on GET)."""
        ref = project_ref(path)
        if ref is None or path.rstrip("/") != f"/projects/{path.split('/')[2]}":
            return
        if isinstance(found, dict) and isinstance(found.get("id"), int):
            now = str(found.get("path_with_namespace") or "")
            if now and now.lower() != ref.lower():
                self.moved_projects[ref.lower()] = found["id"]

    def get(self, path: str, what: str, **query: Any) -> dict | None:
        """GET one object; None on 404."""

        def call() -> dict | None:
            try:
                found = self.gl.http_get(
                    self._by_id(path), query_data=query or None, max_retries=self.max_retries
                )
                # JSON null: GitLab's answer for "none" (GET /license without a license).
                return None if found is None else one_object(found)
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return None
                raise

        found = self._wrap(what, call)
        self._learn(path, found)
        return found

    def list(self, path: str, what: str, **query: Any) -> list[dict]:
        """Every page of a listing, 100 at a time, in page order.

        With ``read_workers`` > 1 the pages after the first are read by that many
        threads at once (a 5,000-account portfolio lists ~100 pages; one at a
        time its wall time is pages x latency). Each request still obeys 429
        Retry-After and retries transient errors (python-gitlab), and is counted once.
        """
        query.setdefault("per_page", PER_PAGE)

        def call() -> list[dict]:
            if self.read_workers <= 1:
                pages = self.gl.http_list(
                    self._by_id(path), query_data=query, iterator=True, max_retries=self.max_retries
                )
                return list_of_objects(list(pages))  # type: ignore[arg-type]
            return list_of_objects(self._read_pages(self._by_id(path), query))

        return self._wrap(what, call)

    def scan(self, path: str, what: str, **query: Any) -> Iterator[dict]:
        """A listing read lazily, a page of 100 per request, so a search for one item
        stops reading at the page that holds it."""
        query.setdefault("per_page", PER_PAGE)
        pages = self._wrap(
            what,
            lambda: self.gl.http_list(
                self._by_id(path), query_data=query, iterator=True, max_retries=self.max_retries
            ),
        )
        iterator = iter(pages)  # type: ignore[call-overload]
        while True:
            try:
                item = self._wrap(what, lambda: one_object(next(iterator)))
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
