"""`sandbox serve` remembers a filtered, sorted issue listing between writes
(sandbox/store.py ``Store.listing``): paging through it filters once, and any write,
another user or other filters give a fresh answer, as GitLab's finder would
(app/finders/issues_finder.rb answers every page from the database)."""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import Sandbox
from gl_csm.sandbox import issues as sandbox_issues
from tests.sandbox.conftest import Http


def _spy(monkeypatch: Any) -> list[int]:
    calls: list[int] = []
    real = sandbox_issues.filter_issues

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sandbox_issues, "filter_issues", counted)
    return calls


def _titles(http: Http, path: str, **params: Any) -> list[str]:
    reply = http.get(path, params={"per_page": 2, **params})
    assert reply.status_code == 200, reply.text
    return [i["title"] for i in reply.json()]


def test_pages_of_one_listing_filter_once_and_a_write_is_seen(
    sb: Sandbox, http: Http, project: Any, monkeypatch: Any
) -> None:
    sb.store.listings = {}
    for n in range(5):
        project.issues.create({"title": f"task-{n}"})
    path = f"/projects/{project.id}/issues"
    calls = _spy(monkeypatch)
    pages = [_titles(http, path, page=p, sort="asc") for p in (1, 2, 3)]
    assert pages == [["task-0", "task-1"], ["task-2", "task-3"], ["task-4"]]
    assert len(calls) == 1
    # Other filters are another listing.
    assert _titles(http, path, page=1, sort="desc") == ["task-4", "task-3"]
    assert len(calls) == 2
    # A write: the next page is of the new state (no stale answer).
    project.issues.create({"title": "task-5"})
    assert _titles(http, path, page=3, sort="asc") == ["task-4", "task-5"]
    assert len(calls) == 3
    assert len(sb.store.listings) == 1  # the earlier state's listings are gone


def test_off_unless_served(sb: Sandbox, http: Http, project: Any, monkeypatch: Any) -> None:
    project.issues.create({"title": "issue"})
    calls = _spy(monkeypatch)
    path = f"/projects/{project.id}/issues"
    _titles(http, path, page=1)
    _titles(http, path, page=1)
    assert len(calls) == 2 and sb.store.listings is None
