"""`gl-csm serve`: every malformed body is a 400, a full
queue still answers 202 and counts the delivery as dropped, the body limit is enforced
before the app reads, a stop finishes the payload in hand and TCP_NODELAY is on.

GitLab disables a hook after 4 consecutive failures and waits 10 s for an answer
(doc/user/project/integrations/webhooks.md); the server's limits are in
gl_csm/webhook_http.py. Loopback only."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gl_csm.webhook_server import MAX_BODY, WebhookApp, make_server

SECRET = "s3cret"
HOOK = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SECRET}


class _Quiet:
    def write(self, _text: str) -> None:
        pass

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


class _Served:
    def __init__(self, app: WebhookApp) -> None:
        self.app = app
        self.server = make_server(app, "127.0.0.1", 0)
        host, port = self.server.server_address
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Served:
        self.app.start()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.app.stop(timeout=10)


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _blocking_app(gate: threading.Event, seen: list[Any], **kw: Any) -> WebhookApp:
    def handle(data: Any) -> str:
        seen.append(data)
        gate.wait(20)
        return "ok"

    return WebhookApp(handle, SECRET, log=_Quiet(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the parser allows
        b'{"object_kind": ' + b"9" * 5000 + b"}",  # an int over 4,300 digits
        json.dumps({**_payload(), "object_attributes": "nope"}).encode(),
        json.dumps({**_payload(), "project": ["x"]}).encode(),
        json.dumps({**_payload(), "changes": {"labels": {"current": 7}}}).encode(),
        json.dumps({**_payload(), "changes": {"labels": {"current": [{"title": 7}]}}}).encode(),
        b"\xff\xfe not utf-8",
        b"null",
    ],
)
def test_every_malformed_body_is_a_400(gate: threading.Event, body: bytes) -> None:
    with _Served(_blocking_app(gate, [])) as s:
        r = requests.post(s.url, data=body, headers=HOOK, timeout=10)
        assert r.status_code == 400, r.text
        assert r.json()["message"]


def test_a_full_queue_still_answers_202_and_counts_the_drop(gate: threading.Event) -> None:
    seen: list[Any] = []
    with _Served(_blocking_app(gate, seen, queue_max=2)) as s:
        codes = []
        for i in range(6):
            r = requests.post(s.url, json=_payload(i + 1), headers=HOOK, timeout=10)
            codes.append(r.status_code)
            if i == 0:  # the worker holds the first one
                deadline = time.monotonic() + 10
                while not seen and time.monotonic() < deadline:
                    time.sleep(0.01)
        health = requests.get(f"{s.url}/-/health", timeout=5).json()
        assert codes == [202] * 6
        # one in hand, two queued, three dropped (left to the scheduled triage)
        assert (health["queued"], health["dropped"]) == (2, 3)
        gate.set()


def test_the_body_limit_is_enforced_before_the_app_reads(gate: threading.Event) -> None:
    with _Served(_blocking_app(gate, [])) as s:
        host, port = s.server.server_address
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: s3cret\r\n"
                + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
            )
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 413")


def test_tcp_nodelay_is_on(gate: threading.Event) -> None:
    with _Served(_blocking_app(gate, [])) as s:
        r = requests.get(f"{s.url}/-/health", timeout=5)
        assert r.status_code == 200
        assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in s.server.socket_options


def test_stop_finishes_the_payload_in_hand_and_leaves_the_rest(gate: threading.Event) -> None:
    seen: list[Any] = []
    app = _blocking_app(gate, seen)
    with _Served(app) as s:
        for i in range(3):
            requests.post(s.url, json=_payload(i + 1), headers=HOOK, timeout=10)
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        stopper = threading.Thread(target=app.stop)
        stopper.start()
        time.sleep(0.3)
        assert stopper.is_alive()  # waits for the payload in hand...
        gate.set()
        stopper.join(10)
    assert (app.processed, app.left, len(seen)) == (1, 2, 1)  # ...and leaves the rest


def test_a_dropped_delivery_is_caught_up_by_the_scheduled_triage(tmp_path: Any) -> None:
    """SPEC 5 React: what serve drops, the scheduled triage does; the end state is the
    one the reaction would have left (one open triage issue, then nothing to write)."""
    from gl_csm import markers
    from gl_csm.services.react import react
    from tests.services.react_support import issue_hook
    from tests.services.triage_world import ACCOUNTS, TRIAGE, World

    def end_state(world: World) -> list[tuple[str, str]]:
        opened = world.issues(TRIAGE, state="opened")
        return sorted((i["title"], ",".join(sorted(i["labels"]))) for i in opened)

    states = []
    for dropped in (False, True):
        world = World(tmp_path / str(dropped))
        world.add("acme", "Acme")
        world.run()
        tracking = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")["acme"]
        world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="triage::needed")
        hook = issue_hook(
            ACCOUNTS, world.person().issue(ACCOUNTS, tracking["iid"]), added=["triage::needed"]
        )

        def handle(data: Any, world: World = world) -> str:
            return react(world.gateway, world.settings, world.today, data)[0].line

        app = WebhookApp(handle, SECRET, log=_Quiet(), queue_bytes=0 if dropped else 1 << 20)  # type: ignore[arg-type]
        with _Served(app) as s:
            r = requests.post(s.url, json=hook, headers=HOOK, timeout=10)
            assert r.status_code == 202
            deadline = time.monotonic() + 30
            while app.processed + app.failed + app.dropped < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert app.dropped == (1 if dropped else 0)
        _, _, stats = world.run()  # the scheduled triage
        _, _, again = world.run()
        assert again.writes == 0
        states.append(end_state(world))
    assert states[0] == states[1] and len(states[0]) == 1
