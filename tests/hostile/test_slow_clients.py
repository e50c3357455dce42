"""`gl-csm serve` against slow and unsigned clients (loopback only).

GitLab waits 10 s for a webhook answer and disables the hook after 4 consecutive
failures (doc/user/project/integrations/webhooks.md), so slow clients that hold
connections must not delay a signed delivery, an unsigned request must not cost its
body, a delivery that was dropped must be queued when GitLab redelivers it with the
same key, and each log record is one whole line. The full-size load test is
benchmarks/bench_serve.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gl_csm.webhook_server import WebhookApp, make_server
from tests.hostile.slow_clients import SlowClients

SECRET = "s3cret"
HOOK = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SECRET}
#: More than the connection limit of the thread-pool server gl-csm used to run on.
SLOW_CLIENTS = 1_100
GITLAB_WAITS_S = 10.0


class _Lines:
    """A log stream that keeps every write() call apart."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self.writes.append(text)

    def flush(self) -> None:
        pass


def _payload(iid: int = 1) -> dict[str, Any]:
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "project": {"id": 1, "path_with_namespace": "customer-success/accounts"},
        "object_attributes": {"id": iid, "iid": iid, "action": "update", "labels": []},
        "labels": [],
        "changes": {"labels": {"previous": [], "current": []}},
    }


@pytest.fixture
def served() -> Iterator[tuple[WebhookApp, Any, str]]:
    seen: list[Any] = []

    def handle(data: Any) -> str:
        seen.append(data)
        return "ok"

    app = WebhookApp(handle, SECRET, log=_Lines())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0)
    host, port = server.server_address
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    app.start()
    thread.start()
    try:
        yield app, server, f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        app.stop(timeout=10)


def test_signed_deliveries_are_answered_while_slow_clients_hold_connections(
    served: tuple[WebhookApp, Any, str],
) -> None:
    app, server, url = served
    with SlowClients(server.server_address[1], SLOW_CLIENTS, every=2.0) as trickle:
        time.sleep(3.0)  # every slow client has connected and sent a byte or two
        answered = []
        for i in range(3):
            started = time.monotonic()
            try:
                r = requests.post(url, json=_payload(i + 1), headers=HOOK, timeout=GITLAB_WAITS_S)
                answered.append((r.status_code, time.monotonic() - started < GITLAB_WAITS_S))
            except requests.RequestException as exc:
                answered.append((type(exc).__name__, False))
        assert trickle.held_peak >= SLOW_CLIENTS * 0.9
    assert answered == [(202, True)] * 3


def test_a_head_that_does_not_arrive_in_time_is_closed() -> None:
    app = WebhookApp(lambda _d: "ok", SECRET, log=_Lines())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0, head_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server_address, timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            assert sock.recv(1024) == b""  # closed by the server, no answer
    finally:
        server.shutdown()
        server.server_close()
    assert server.timed_out == 1


def test_when_full_the_connection_waiting_longest_for_its_head_makes_room() -> None:
    seen: list[Any] = []
    app = WebhookApp(lambda d: seen.append(d) or "ok", SECRET, log=_Lines())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0, max_connections=5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    app.start()
    thread.start()
    idle = [socket.create_connection(server.server_address, timeout=10) for _ in range(5)]
    try:
        time.sleep(0.3)
        host, port = server.server_address
        r = requests.post(f"http://{host}:{port}", json=_payload(), headers=HOOK, timeout=5)
        assert r.status_code == 202
        assert idle[0].recv(1024) == b""  # the oldest idle one was closed
    finally:
        for sock in idle:
            sock.close()
        server.shutdown()
        server.server_close()
        app.stop(timeout=10)
    assert server.evicted == 1


def test_an_unsigned_request_is_refused_before_its_body_is_read(
    served: tuple[WebhookApp, Any, str],
) -> None:
    app, server, _ = served
    with socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: guess\r\n"
            b"Content-Type: application/json\r\nContent-Length: 25000000\r\n\r\n"
        )
        answer = sock.recv(4096)  # no body sent: the answer must come from the head
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"Connection: close" in answer


def test_a_dropped_delivery_is_queued_when_redelivered_with_the_same_key(
    served: tuple[WebhookApp, Any, str],
) -> None:
    app, _, url = served
    headers = {**HOOK, "Idempotency-Key": "redelivered-1"}
    app.queue_bytes = 0  # full: the first delivery is dropped
    first = requests.post(url, json=_payload(), headers=headers, timeout=5)
    assert first.json() == {"status": "dropped"}
    app.queue_bytes = 1 << 20
    again = requests.post(url, json=_payload(), headers=headers, timeout=5)
    assert (again.status_code, again.json()) == (202, {"status": "queued"})
    once_more = requests.post(url, json=_payload(), headers=headers, timeout=5)
    assert (once_more.status_code, once_more.json()) == (200, {"status": "duplicate"})


def test_every_log_record_is_one_whole_line() -> None:
    stream = _Lines()
    app = WebhookApp(lambda _d: "ok", SECRET, log=stream)  # type: ignore[arg-type]

    def log_many(who: str) -> None:
        for i in range(200):
            app.log(f"{who} {i} with\na newline inside")

    threads = [threading.Thread(target=log_many, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stream.writes) == 800
    assert all(w.endswith("\n") and w.count("\n") == 1 for w in stream.writes)
    assert json.dumps(stream.writes).count("gl-csm serve: ") == 800


def test_a_signed_body_that_trickles_is_cut_off() -> None:
    app = WebhookApp(lambda _d: "ok", SECRET, log=_Lines())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0, body_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server_address, timeout=10) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: s3cret\r\n"
                b"Content-Length: 1000\r\n\r\n{"
            )
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 408")
    finally:
        server.shutdown()
        server.server_close()
    assert app.queue.qsize() == 0


def test_the_load_test_drives_slow_clients_with_this_very_helper() -> None:
    # benchmarks/bench_serve.py holds its thousands of connections with the driver this
    # test uses (tests/hostile/slow_clients.py), not a copy that could drift from it.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_serve.py"
    spec = importlib.util.spec_from_file_location("bench_serve_under_test", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.SlowClients is SlowClients


def test_slow_clients_never_end_their_head_and_come_back_when_closed() -> None:
    app = WebhookApp(lambda _d: "ok", SECRET, log=_Lines())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0, head_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with SlowClients(server.server_address[1], 5, every=0.1) as slow:
            time.sleep(2.0)
        assert slow.closed_by_server >= 5 and slow.opened >= 10
        assert slow.held_peak == 5
    finally:
        server.shutdown()
        server.server_close()
    assert server.timed_out >= 5
