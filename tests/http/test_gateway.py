"""The gateway's exact HTTP contract, with `responses` standing in for GitLab.

Each test names the GitLab documentation page (gitlabhq/gitlabhq) or python-gitlab
behaviour it relies on.
"""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses import matchers

from gl_csm.errors import ConfigError, GitLabError
from gl_csm.gitlab.gateway import Gateway, Pacer
from gl_csm.markers import marker, token

API = "https://gl.test/api/v4"


@pytest.fixture
def gw() -> Gateway:
    g = Gateway.connect("https://gl.test", "secret-token")
    g._create_wait_max = 0.0  # no back-off sleeps in tests
    return g


@responses.activate
def test_listing_follows_pages_of_100(gw: Gateway) -> None:
    """doc/api/rest/_index.md: per_page max 100, `x-next-page` / `Link` for the next page."""
    first = [{"id": i, "iid": i} for i in range(100)]
    second = [{"id": 100, "iid": 100}]
    responses.get(
        f"{API}/projects/a%2Fb/issues",
        json=first,
        headers={
            "x-next-page": "2",
            "x-total": "101",
            "Link": f'<{API}/projects/a%2Fb/issues?page=2&per_page=100>; rel="next"',
        },
        match=[matchers.query_param_matcher({"per_page": "100", "state": "opened"})],
    )
    responses.get(
        f"{API}/projects/a%2Fb/issues",
        json=second,
        headers={"x-next-page": "", "x-total": "101"},
        # The next page is asked by number with the same filters (doc/api/rest/_index.md
        # "Offset-based pagination"), so pages can be read at once.
        match=[matchers.query_param_matcher({"page": "2", "per_page": "100", "state": "opened"})],
    )
    issues = gw.issues("a/b", state="opened")
    assert len(issues) == 101
    assert gw.stats.reads == 2 and gw.stats.writes == 0


@responses.activate
def test_private_token_header_and_url_encoded_path(gw: Gateway) -> None:
    """doc/api/rest/_index.md: PRIVATE-TOKEN header; namespaced paths URL-encoded."""
    responses.get(
        f"{API}/projects/customer-success%2Faccounts",
        json={"id": 7, "visibility": "private"},
        match=[matchers.header_matcher({"PRIVATE-TOKEN": "secret-token"})],
    )
    assert gw.project("customer-success/accounts") == {"id": 7, "visibility": "private"}


@responses.activate
def test_404_reads_as_none(gw: Gateway) -> None:
    """doc/api/rest/_index.md: 404 `{"message": "404 Project Not Found"}`."""
    responses.get(f"{API}/projects/x%2Fy", status=404, json={"message": "404 Project Not Found"})
    assert gw.project("x/y") is None


@responses.activate
def test_429_is_retried_after_retry_after(gw: Gateway) -> None:
    """doc/user/gitlab_com/rate_limits.md: 429 with Retry-After; python-gitlab obeys it."""
    responses.get(f"{API}/user", status=429, headers={"Retry-After": "0"}, json={})
    responses.get(f"{API}/user", json={"id": 1, "username": "bot"})
    assert gw.current_user()["username"] == "bot"
    assert gw.stats.reads == 2


@responses.activate
def test_read_retries_transient_5xx(gw: Gateway) -> None:
    """python-gitlab `retry_transient_errors`: 502 on a GET is retried."""
    responses.get(f"{API}/groups/g", status=502, body="bad gateway")
    responses.get(f"{API}/groups/g", json={"id": 3})
    assert gw.group("g") == {"id": 3}


@responses.activate
def test_401_is_a_config_error_without_the_token(gw: Gateway) -> None:
    """doc/api/rest/_index.md: 401 for a bad token; the message must not echo it."""
    responses.get(f"{API}/user", status=401, json={"message": "401 Unauthorized"})
    with pytest.raises(ConfigError) as info:
        gw.current_user()
    assert "GITLAB_TOKEN" in str(info.value)
    assert "secret-token" not in str(info.value)


@responses.activate
def test_create_issue_after_lost_answer_finds_it_instead_of_duplicating(gw: Gateway) -> None:
    """GITLAB_API_NOTES: a POST may reach GitLab and still fail; find by marker first,
    newest issues first and never through `search` (app/models/concerns/
    pg_full_text_searchable.rb: an HTML comment is not indexed, a search finds nothing)."""
    body = "card\n" + marker("tracking", "acme")
    responses.post(f"{API}/projects/p/issues", status=502, body="bad gateway")
    responses.get(
        f"{API}/projects/p/issues",
        json=[{"id": 9, "iid": 4, "description": body}],
        match=[
            matchers.query_param_matcher(
                {
                    "state": "all",
                    "order_by": "created_at",
                    "sort": "desc",
                    "per_page": "100",
                }
            )
        ],
    )
    issue = gw.create_issue("p", "Acme", body, token("tracking", "acme"))
    assert issue["iid"] == 4
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert gw.stats.writes == 1


@responses.activate
def test_create_issue_retried_when_it_did_not_land(gw: Gateway) -> None:
    """A dropped connection before GitLab saw the POST: the lookup is empty, POST again."""
    body = "x\n" + marker("triage", "acme")
    responses.post(f"{API}/projects/p/issues", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/projects/p/issues", json=[])
    responses.post(f"{API}/projects/p/issues", status=201, json={"id": 1, "iid": 1})
    assert gw.create_issue("p", "t", body, token("triage", "acme"))["iid"] == 1
    sent = json.loads(responses.calls[-1].request.body)
    assert sent["title"] == "t" and token("triage", "acme") in sent["description"]
    assert gw.stats.writes == 2 and gw.stats.reads == 1


@responses.activate
def test_create_refuses_a_bot_issue_without_marker(gw: Gateway) -> None:
    """ARCHITECTURE rule 3: every bot issue carries its marker."""
    with pytest.raises(ValueError):
        gw.create_issue("p", "t", "no marker", token("triage", "acme"))


@responses.activate
def test_label_409_means_it_exists(gw: Gateway) -> None:
    """lib/api/helpers/label_helpers.rb: an existing name answers 409 Label already exists."""
    responses.post(f"{API}/groups/g/labels", status=409, json={"message": "Label already exists"})
    assert gw.create_label("group", "g", "health::red", "#dd2b0e", "d") is False
    responses.post(f"{API}/groups/g/labels", status=201, json={"id": 1, "name": "health::green"})
    assert gw.create_label("group", "g", "health::green", "#108548", "d") is True


@responses.activate
def test_transfer_sends_namespace_and_names_gitlab_answer(gw: Gateway) -> None:
    """doc/api/projects.md (transfer): PUT with `namespace`; 400 message passed on."""
    msg = (
        'Failed to transfer project {:new_namespace=>["Project with same name or path in '
        'target namespace already exists"]}'
    )
    responses.put(
        f"{API}/projects/12/transfer",
        status=400,
        json={"message": msg},
        match=[matchers.json_params_matcher({"namespace": "account-management/customers"})],
    )
    with pytest.raises(GitLabError) as info:
        gw.transfer_project(12, "account-management/customers")
    assert "already exists" in str(info.value) and "400" in str(info.value)


@responses.activate
def test_note_create_is_paced_and_marker_safe(gw: Gateway) -> None:
    """doc/api/notes.md: POST notes with `body`; pacing hook called for kind `notes`."""
    calls: list[str] = []

    class Spy(Pacer):
        def acquire(self, kind: str) -> None:
            calls.append(kind)

    gw.pacer = Spy({})
    body = "hi\n" + marker("reminder", "acme/ebr")
    responses.post(f"{API}/projects/p/issues/3/notes", status=201, json={"id": 5, "body": body})
    assert gw.create_note("p", 3, body, token("reminder", "acme/ebr"))["id"] == 5
    assert calls == ["notes"]


def test_pacer_spaces_writes_evenly() -> None:
    """doc/user/gitlab_com/rate_limits.md: notes 60/min -> one a second."""
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = Pacer({"notes": 60}, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        pacer.acquire("notes")
    pacer.acquire("issues")  # unpaced kind
    assert slept == [1.0, 1.0]


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_fails_fast_after_two_tries() -> None:
    """Nothing listening (wrong port, stopped `sandbox serve`): 2 tries, then exit 2 with
    a clear line, instead of python-gitlab's MAX_RETRIES back-offs (~27 s)."""
    from gl_csm.errors import GitLabUnreachable

    said: list[str] = []
    gw = Gateway.connect(f"http://127.0.0.1:{_closed_port()}", "secret-token")
    gw.retry_notices.notify = said.append
    with pytest.raises(GitLabUnreachable) as info:
        gw.check_connection()
    assert gw.stats.reads == 2
    assert "could not reach GitLab at http://127.0.0.1:" in str(info.value)
    assert "ConnectionRefused" in str(info.value) and "nothing was done" in str(info.value)
    assert said == ["GitLab refused the connection, retry 1/1 in 0.1 s"]


@responses.activate
def test_5xx_keeps_every_retry_while_refusals_do_not(gw: Gateway) -> None:
    """python-gitlab `retry_transient_errors`: a 503 outage is retried MAX_RETRIES times."""
    gw.max_retries = 3  # the retry count, not the waits, is what is checked
    responses.get(f"{API}/groups/g", status=503, body="down")
    with pytest.raises(GitLabError):
        gw.group("g")
    assert gw.stats.reads == 4
