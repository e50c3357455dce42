"""Injected faults and test hooks (doc/user/gitlab_com/rate_limits.md,
doc/administration/settings/user_and_ip_rate_limits.md "Response headers")."""

from __future__ import annotations

import time

import gitlab
import pytest
import requests

from gl_csm.sandbox import Faults, Sandbox, SandboxAdapter

from .conftest import API, BASE, Http

P = "/projects/customer-success%2Faccounts"


def _session(sb: Sandbox, faults: Faults) -> requests.Session:
    session = requests.Session()
    session.mount(BASE, SandboxAdapter(sb, faults))
    return session


def _client(sb: Sandbox, faults: Faults) -> gitlab.Gitlab:
    gl = gitlab.Gitlab(BASE, private_token="t", retry_transient_errors=True)
    gl.session.mount(BASE, SandboxAdapter(sb, faults))
    return gl


def test_latency_is_added(sb: Sandbox) -> None:
    session = _session(sb, Faults(latency_ms=40))
    start = time.monotonic()
    for _ in range(3):
        session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "t"})
    assert time.monotonic() - start >= 0.12


def test_error_rate_share_is_seeded(sb: Sandbox) -> None:
    """502s at roughly ``error_rate``, the same sequence for the same seed, not processed."""

    def statuses(seed: int) -> list[int]:
        session = _session(sb, Faults(error_rate=0.3, seed=seed))
        return [
            session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "t"}).status_code
            for _ in range(400)
        ]

    before = len(sb.request_log)
    first = statuses(7)
    share = first.count(502) / len(first)
    assert 0.22 < share < 0.38
    assert set(first) == {200, 502}
    assert len(sb.request_log) - before == first.count(200)
    assert statuses(7) == first


def test_rate_limit_429_with_retry_after(sb: Sandbox) -> None:
    """Rate limit per token: then 429 ``Retry later`` with Retry-After and RateLimit-*."""
    session = _session(sb, Faults(rate_limit=3, window_s=60))
    codes = [
        session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "a"}).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    r = session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "a"})
    assert r.status_code == 429
    assert r.text == "Retry later\n"
    assert 55 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["RateLimit-Limit"] == "3"
    assert r.headers["RateLimit-Remaining"] == "0"
    assert int(r.headers["RateLimit-Reset"]) > time.time()
    # Another token has its own budget.
    assert session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "b"}).status_code == 200


def test_rate_limit_window_frees(sb: Sandbox) -> None:
    session = _session(sb, Faults(rate_limit=1, window_s=0.3))
    assert session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "a"}).status_code == 200
    assert session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "a"}).status_code == 429
    time.sleep(0.35)
    assert session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "a"}).status_code == 200


def test_python_gitlab_completes_through_429_and_502(sb: Sandbox) -> None:
    """python-gitlab obeys Retry-After (obey_rate_limit) and retries 502s
    (retry_transient_errors); every write lands exactly once."""
    gl = _client(sb, Faults(rate_limit=10, window_s=1, error_rate=0.2, seed=3))
    adapter = gl.session.get_adapter(BASE)
    assert isinstance(adapter, SandboxAdapter) and adapter.injector is not None
    project = gl.projects.get("customer-success/accounts")
    for i in range(15):
        project.issues.create({"title": f"issue {i}"})
    titles = sorted(i.title for i in project.issues.list(get_all=True))
    assert titles == sorted(f"issue {i}" for i in range(15))
    assert adapter.injector.injected["429"] >= 1
    assert adapter.injector.injected["502"] >= 1


def test_dropped_connections(sb: Sandbox) -> None:
    """drop_rate: the adapter raises ConnectionError; python-gitlab retries those."""
    session = _session(sb, Faults(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        session.get(f"{API}/user", headers={"PRIVATE-TOKEN": "t"})
    gl = _client(sb, Faults(drop_rate=0.3, seed=1))
    assert gl.projects.get("customer-success/accounts").path == "accounts"


def test_faults_validate_their_arguments() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)


class TestInject:
    def test_answer_without_processing(self, sb: Sandbox, http: Http) -> None:
        sb.inject("POST", r"/issues$", 500, times=2)
        assert http.post(f"{P}/issues", json={"title": "a"}).status_code == 500
        r = http.post(f"{P}/issues", json={"title": "a"})
        assert (r.status_code, r.json()) == (500, {"message": "500 Internal Server Error"})
        assert http.get(f"{P}/issues").json() == []
        assert http.post(f"{P}/issues", json={"title": "a"}).status_code == 201

    def test_after_processing_loses_the_answer(self, sb: Sandbox, http: Http) -> None:
        """A POST that reached GitLab but whose answer was lost: the write happened."""
        sb.inject(
            "POST",
            r"customer-success/accounts/issues",
            502,
            body="bad gateway",
            after_processing=True,
        )
        r = http.post(f"{P}/issues", json={"title": "ghost"})
        assert (r.status_code, r.text) == (502, "bad gateway")
        assert [i["title"] for i in http.get(f"{P}/issues").json()] == ["ghost"]
        assert ("POST", "/api/v4/projects/customer-success%2Faccounts/issues") in sb.request_log

    def test_python_gitlab_retry_duplicates_a_lost_create(self, sb: Sandbox) -> None:
        """GITLAB_API_NOTES.md: retries apply to POST, so a lost answer can duplicate."""
        sb.inject("POST", r"/issues$", 502, after_processing=True)
        gl = _client(sb, Faults())
        gl.projects.get("customer-success/accounts").issues.create({"title": "dup"})
        assert len(gl.projects.get("customer-success/accounts").issues.list()) == 2

    def test_method_and_headers(self, sb: Sandbox, http: Http) -> None:
        sb.inject("*", r"/user$", 429, headers={"Retry-After": "1"})
        r = http.get("/user")
        assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
        assert http.get("/user").status_code == 200
