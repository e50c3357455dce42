"""The token never follows a redirect to another origin, and a token in GITLAB_URL's
path or query is never printed.

requests drops ``Authorization`` on a redirect to another host (``Session.rebuild_auth``)
but not python-gitlab's ``PRIVATE-TOKEN`` header; GitLab's own redirects (a moved
project, lib/api/helpers.rb ``find_project``) stay on its origin. Loopback only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gl_csm.errors import GitLabUnreachable
from gl_csm.gitlab.gateway import Gateway
from gl_csm.urls import redact_url
from tests.cli.test_cli_basics import run

TOKEN = "glpat-never-elsewhere"


def _start(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A server on another origin that records the headers it is sent."""
    seen: list[dict[str, str]] = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(dict(self.headers.items()))
            body = b'{"id": 1, "path_with_namespace": "x/y"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server, url = _start(Record)
    # Another origin: another host name for the same loopback address, another port.
    yield url.replace("127.0.0.1", "localhost"), seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def redirecting(elsewhere: tuple[str, list[dict[str, str]]]) -> Iterator[str]:
    target = elsewhere[0]

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server, url = _start(Redirect)
    yield url
    server.shutdown()
    server.server_close()


def test_a_redirect_to_another_host_is_a_named_error_and_sends_no_token(
    redirecting: str, elsewhere: tuple[str, list[dict[str, str]]]
) -> None:
    gw = Gateway.connect(redirecting, TOKEN)
    for _ in range(8):
        with pytest.raises(GitLabUnreachable) as info:
            gw.project("customer-success/accounts")
        assert "redirected to another host" in str(info.value)
        assert info.value.exit_code == 2
    assert elsewhere[1] == []  # not one request reached the other origin
    assert gw.stats.reads == 8  # and none was retried


def test_the_cli_names_the_redirect_and_never_the_token(
    workdir: Path, redirecting: str, elsewhere: tuple[str, list[dict[str, str]]]
) -> None:
    code, out, err = run(workdir, "triage", env={"GITLAB_URL": redirecting, "GITLAB_TOKEN": TOKEN})
    assert code == 2 and "redirected to another host" in err
    assert "Traceback" not in out + err and TOKEN not in out + err
    assert elsewhere[1] == []


def test_a_token_in_the_urls_path_or_query_is_never_printed(workdir: Path) -> None:
    secret = "glpat-Zq9xY8wV7uT6sR5q"
    assert secret not in redact_url(f"at https://gitlab.example.com/{secret}/api.")
    assert secret not in redact_url(f"https://gitlab.example.com/?private_token={secret}")
    # A project path is not a token.
    kept = "https://gitlab.example.com/acme-corp-2024-implementation/issues?"
    assert redact_url(kept) == kept + "***"
    for url in (f"http://127.0.0.1:9/{secret}", f"http://127.0.0.1:9/?private_token={secret}"):
        code, out, err = run(workdir, "triage", env={"GITLAB_URL": url, "GITLAB_TOKEN": "t"})
        assert code == 2, err
        assert secret not in out + err and "Traceback" not in out + err
