"""Offset pagination (doc/api/rest/_index.md, "Pagination")."""

from __future__ import annotations

import gitlab

from gl_csm.sandbox import Sandbox

from .conftest import API, Http

ISSUES = "/projects/customer-success%2Faccounts/issues"


def _issues(http: Http, n: int) -> None:
    for i in range(n):
        assert http.post(ISSUES, json={"title": f"issue {i}"}).status_code == 201


def test_headers_on_a_middle_page(http: Http) -> None:
    """doc/api/rest/_index.md: x-total, x-total-pages, x-page, x-per-page, x-next-page,
    x-prev-page and Link with prev/next/first/last."""
    _issues(http, 7)
    r = http.get(ISSUES, params={"per_page": 3, "page": 2, "state": "opened"})
    assert r.status_code == 200
    assert len(r.json()) == 3
    h = r.headers
    assert (h["x-total"], h["x-total-pages"], h["x-page"], h["x-per-page"]) == ("7", "3", "2", "3")
    assert (h["x-next-page"], h["x-prev-page"]) == ("3", "1")
    assert r.links["next"]["url"] == f"{API}{ISSUES}?state=opened&page=3&per_page=3"
    assert r.links["prev"]["url"].endswith("page=1&per_page=3")
    assert r.links["first"]["url"].endswith("page=1&per_page=3")
    assert r.links["last"]["url"].endswith("page=3&per_page=3")


def test_first_and_last_pages_have_empty_neighbours(http: Http) -> None:
    """doc/api/rest/_index.md: x-prev-page / x-next-page are empty when there is none."""
    _issues(http, 3)
    first = http.get(ISSUES, params={"per_page": 2})
    assert first.headers["x-prev-page"] == ""
    assert "prev" not in first.links
    last = http.get(ISSUES, params={"per_page": 2, "page": 2})
    assert last.headers["x-next-page"] == ""
    assert "next" not in last.links
    assert len(last.json()) == 1


def test_default_per_page_is_20(http: Http) -> None:
    """doc/api/rest/_index.md: per_page defaults to 20."""
    _issues(http, 25)
    r = http.get(ISSUES)
    assert len(r.json()) == 20
    assert r.headers["x-per-page"] == "20"
    assert r.headers["x-total-pages"] == "2"


def test_per_page_capped_at_100(sb: Sandbox, http: Http) -> None:
    """doc/api/rest/_index.md: per_page maximum is 100; larger values give 100."""
    sb.seed(users=[f"user{i:03d}" for i in range(120)])
    r = http.get("/users", params={"per_page": 500})
    assert r.headers["x-per-page"] == "100"
    assert len(r.json()) == 100
    assert r.headers["x-next-page"] == "2"


def test_empty_list(http: Http) -> None:
    r = http.get(ISSUES)
    assert r.json() == []
    assert (r.headers["x-total"], r.headers["x-total-pages"]) == ("0", "1")


def test_page_beyond_the_end_is_empty(http: Http) -> None:
    _issues(http, 2)
    r = http.get(ISSUES, params={"page": 5})
    assert r.status_code == 200
    assert r.json() == []


def test_python_gitlab_follows_links(gl: gitlab.Gitlab, http: Http) -> None:
    """python-gitlab's get_all / iterator follow the Link rel="next" header."""
    _issues(http, 45)
    project = gl.projects.get("customer-success/accounts")
    everything = project.issues.list(get_all=True, per_page=10)
    assert len(everything) == 45
    assert len({i.iid for i in everything}) == 45
    lazily = list(project.issues.list(iterator=True, per_page=7))
    assert len(lazily) == 45
    one_page = project.issues.list(per_page=10, page=5)
    assert len(one_page) == 5


def test_no_counts_above_the_count_limit(http: Http, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """doc/api/rest/_index.md "Pagination response headers": above 10,000 rows GitLab
    sends no x-total, x-total-pages nor rel="last", but still x-next-page and the next
    link (lib/gitlab/pagination/offset_header_builder.rb). Limit lowered to keep it small."""
    from gl_csm.sandbox import pagination

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 4)
    _issues(http, 5)
    r = http.get(ISSUES, params={"per_page": 2})
    assert "x-total" not in r.headers and "x-total-pages" not in r.headers
    assert "last" not in r.links and r.links["next"]["url"].endswith("page=2&per_page=2")
    assert r.headers["x-next-page"] == "2"
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    r = http.get(ISSUES, params={"per_page": 2})
    assert (r.headers["x-total"], r.headers["x-total-pages"]) == ("5", "3")
