"""`gl-csm serve` against slow and unsigned clients (loopback only).

GitLab waits 10 s for a webhook answer and disables the hook after 4 consecutive
failures (doc/user/project/integrations/webhooks.md), so slow clients that hold
connections must not delay a signed delivery, an unsigned request must not cost its
body, a delivery that was dropped must be queued when GitLab redelivers it with the
same key, and each log record is one whole line. The full-size load test is
benchmarks/bench_serve.py."""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gl_csm.webhook_server import WebhookApp, make_server

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


class _Trickle:
    """``count`` connections sending a request head one byte every ``every`` seconds,
    reopened when the server closes them, from one thread (selectors), until stopped."""

    HEAD = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"

    def __init__(self, port: int, count: int, every: float) -> None:
        self.port, self.count, self.every = port, count, every
        self.stop = threading.Event()
        self.opened = 0
        self.held_peak = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, sel: selectors.BaseSelector) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", self.port))
        sel.register(sock, selectors.EVENT_READ, 0)
        self.opened += 1

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(sel)
        next_tick = time.monotonic()
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.05):
                sock = key.fileobj
                try:
                    closed = not sock.recv(4096)  # type: ignore[union-attr]
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    sel.unregister(sock)
                    sock.close()  # type: ignore[union-attr]
                    self._open(sel)
            if time.monotonic() >= next_tick:
                next_tick += self.every
                held = 0
                for key in list(sel.get_map().values()):
                    pos = key.data
                    try:
                        key.fileobj.send(self.HEAD[pos : pos + 1])  # type: ignore[union-attr]
                        sel.modify(key.fileobj, selectors.EVENT_READ, min(pos + 1, 40))
                        held += 1
                    except OSError:
                        pass
                self.held_peak = max(self.held_peak, held)
        for key in list(sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        sel.close()

    def __enter__(self) -> _Trickle:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(30)


def test_signed_deliveries_are_answered_while_slow_clients_hold_connections(
    served: tuple[WebhookApp, Any, str],
) -> None:
    app, server, url = served
    with _Trickle(server.server_address[1], SLOW_CLIENTS, every=2.0) as trickle:
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
