"""Offset pagination exactly as doc/api/rest/_index.md ("Offset-based pagination").

``page`` (default 1) and ``per_page`` (default 20, larger values capped at 100);
answers carry ``x-total``, ``x-total-pages``, ``x-page``, ``x-per-page``,
``x-next-page``, ``x-prev-page`` (empty when there is none) and a ``Link``
header with ``prev``/``next``/``first``/``last`` URLs built on the URL the
client used, which is what python-gitlab follows for ``get_all``/``iterator``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from gl_csm.sandbox.errors import ApiError
from gl_csm.sandbox.request import ApiRequest, Reply

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
#: Above this many rows GitLab counts no further: no x-total, x-total-pages nor
#: rel="last" (doc/api/rest/_index.md "Pagination response headers";
#: lib/gitlab/pagination/offset_header_builder.rb ``data_without_counts``).
COUNT_LIMIT = 10_000


def paginate(
    req: ApiRequest, items: list[Any], present: Callable[[Any], Any] | None = None
) -> Reply:
    """One page of ``items``; ``present`` turns an item of that page into its JSON (only
    the page is rendered, as GitLab's LIMIT/OFFSET query loads only the page: rendering
    every row for every page made a 9,000-issue listing cost the sandbox O(rows x pages))."""
    page = _positive(req, "page", 1)
    per_page = min(_positive(req, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    total = len(items)
    total_pages = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    if present is not None:
        chunk = [present(item) for item in chunk]
    next_page = page + 1 if page < total_pages else None
    prev_page = page - 1 if 1 < page <= total_pages + 1 else None

    headers = {
        "X-Total": str(total),
        "X-Total-Pages": str(total_pages),
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(next_page or ""),
        "X-Prev-Page": str(prev_page or ""),
    }
    links = []
    if prev_page:
        links.append(f'<{_page_url(req, prev_page, per_page)}>; rel="prev"')
    if next_page:
        links.append(f'<{_page_url(req, next_page, per_page)}>; rel="next"')
    links.append(f'<{_page_url(req, 1, per_page)}>; rel="first"')
    links.append(f'<{_page_url(req, total_pages, per_page)}>; rel="last"')
    if total > COUNT_LIMIT:
        del headers["X-Total"], headers["X-Total-Pages"]
        links.pop()  # rel="last"
    headers["Link"] = ", ".join(links)
    return Reply(200, chunk, headers)


def _positive(req: ApiRequest, name: str, default: int) -> int:
    value = req.int(name, default)
    assert value is not None
    if value < 1:
        # Grape validates `page`/`per_page` as positive integers.
        raise ApiError(400, {"error": f"{name} does not have a valid value"})
    return value


def _page_url(req: ApiRequest, page: int, per_page: int) -> str:
    pairs = [
        (k, v)
        for k, v in parse_qsl(req.query_string, keep_blank_values=True)
        if k not in ("page", "per_page")
    ]
    pairs += [("page", str(page)), ("per_page", str(per_page))]
    return f"{req.base_url}{req.path}?{urlencode(pairs)}"
