"""A GitLab URL that answers HTML with 200 (a login page, a proxy) or
trickles its answer gets a clear error and exit 2, never a crash or a hang.

GitLab's REST API answers JSON (doc/api/rest/_index.md); the deadline is
``rules.pacing.request_deadline_seconds``. Loopback servers only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gl_csm.errors import GitLabError, GitLabUnreachable
from gl_csm.gitlab.gateway import Gateway
from tests.cli.test_cli_basics import run

LOGIN = b"<!DOCTYPE html><html><body>Sign in</body></html>"


def _fixed(status: int, content_type: str, body: bytes) -> type[BaseHTTPRequestHandler]:
    """A server that answers every GET with the same status, type and body."""

    class Fixed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Fixed


_Login = _fixed(200, "text/html; charset=utf-8", LOGIN)
# JSON, but no GitLab API: 404 for every path (another JSON service, a wrong port).
_NotFound = _fixed(404, "application/json", b'{"message": "404 Not Found"}')


class _Trickle(BaseHTTPRequestHandler):
    """Headers at once, then one byte every 0.2 s of a body that never ends in time."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(50):  # bounded: 10 s at most
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    def log_message(self, *args: object) -> None:
        pass


class _CutShort(BaseHTTPRequestHandler):
    """A chunked JSON answer whose connection closes mid-chunk (a proxy cutting it)."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b'20\r\n[{"id": 1')
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def login_page() -> Iterator[str]:
    yield from _serve(_Login)


@pytest.fixture
def trickle() -> Iterator[str]:
    yield from _serve(_Trickle)


def test_html_with_200_is_a_clear_error_not_an_attribute_error(login_page: str) -> None:
    gw = Gateway.connect(login_page, "token")
    with pytest.raises(GitLabUnreachable) as info:
        gw.project("customer-success/accounts")
    assert "text/html" in str(info.value) and "GITLAB_URL" in str(info.value)
    assert info.value.exit_code == 2
    assert gw.stats.reads == 1  # not retried
    with pytest.raises(GitLabUnreachable):
        gw.issues("customer-success/accounts")


def test_a_trickling_server_hits_the_deadline_once(trickle: str) -> None:
    gw = Gateway.connect(trickle, "token", deadline=1)
    with pytest.raises(GitLabUnreachable) as info:
        gw.project("customer-success/accounts")
    assert "within 1 s" in str(info.value)
    assert gw.stats.reads == 1  # a deadline is not retried


def test_cli_exits_2_on_a_login_page(workdir: Path, login_page: str) -> None:
    code, out, err = run(workdir, "triage", env={"GITLAB_URL": login_page, "GITLAB_TOKEN": "t"})
    assert code == 2
    assert "not the JSON of GitLab's API" in err and "Traceback" not in out + err


def test_cli_exits_2_on_a_trickling_server(workdir: Path, trickle: str) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(config.read_text() + "rules:\n  pacing:\n    request_deadline_seconds: 1\n")
    code, out, err = run(workdir, "setup", env={"GITLAB_URL": trickle, "GITLAB_TOKEN": "t"})
    assert code == 2
    assert "no complete answer within 1 s" in err


def test_json_without_gitlab_api_is_a_clear_exit_2(workdir: Path) -> None:
    """A JSON 404 for GET /api/v4/user: the URL names no GitLab (was an AssertionError)."""
    for url in _serve(_NotFound):
        code, out, err = run(workdir, "triage", env={"GITLAB_URL": url, "GITLAB_TOKEN": "t"})
        assert code == 2 and "Traceback" not in out + err
        assert "no GitLab API there; check GITLAB_URL" in err


def test_an_answer_cut_short_is_a_named_failure(workdir: Path) -> None:
    """A body cut mid-chunk (requests' ChunkedEncodingError) is a GitLab failure naming
    the call, like a dropped connection, not a stack trace."""
    for url in _serve(_CutShort):
        gw = Gateway.connect(url, "token")
        gw.max_retries = 0
        with pytest.raises(GitLabError) as info:
            gw.project("customer-success/accounts")
        assert "read project customer-success/accounts" in str(info.value)
        assert "ChunkedEncodingError" in str(info.value)
