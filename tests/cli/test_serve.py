"""`gl-csm serve` (SPEC 5 React): X-Gitlab-Token, 202 then queue, de-duplication on
Idempotency-Key / X-Gitlab-Event-UUID, health (doc/user/project/integrations/webhooks.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services.react import react
from gl_csm.webhook_server import Dedupe, WebhookApp, make_server
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, TRIAGE, World

SECRET = "s3cret-token"
HOOK = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SECRET}


def _tracking(world: World, slug: str) -> dict:
    return markers.index_by_marker(world.issues(ACCOUNTS), "tracking")[slug]


def _wait(url: str, done: Any, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        doc = requests.get(f"{url}/-/health", timeout=5).json()
        if done(doc) or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, str, list[str]]]:
    """The webhook server in a thread, reacting on an in-process sandbox."""
    world = World(tmp_path)
    world.add("acme", "Acme")
    world.run()
    logs: list[str] = []

    class Log:
        def write(self, text: str) -> None:
            logs.append(text)

        def flush(self) -> None:
            pass

    def handle(data: Any) -> str:
        reaction, outcome = react(world.gateway, world.settings, world.today, data)
        return f"{reaction.line} ({len(outcome.changes)} change(s))"

    app = WebhookApp(handle, SECRET, log=Log())  # type: ignore[arg-type]
    server = make_server(app, "127.0.0.1", 0)
    app.start()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield world, f"http://{host}:{port}", logs
    finally:
        server.shutdown()
        server.server_close()
        app.stop()


def test_token_queue_dedupe_health_and_effect(served: tuple[World, str, list[str]]) -> None:
    world, url, logs = served
    issue = _tracking(world, "acme")
    world.person().update_issue(ACCOUNTS, issue["iid"], add_labels="triage::needed")
    payload = issue_hook(
        ACCOUNTS, world.person().issue(ACCOUNTS, issue["iid"]), added=["triage::needed"]
    )

    wrong = requests.post(url, json=payload, headers={**HOOK, "X-Gitlab-Token": "nope"}, timeout=5)
    assert wrong.status_code == 401
    missing = requests.post(url, json=payload, headers={"X-Gitlab-Event": "Issue Hook"}, timeout=5)
    assert missing.status_code == 401

    key = {"Idempotency-Key": "f1c2a3b4-retry", "X-Gitlab-Event-UUID": "uuid-1"}
    first = requests.post(url, json=payload, headers={**HOOK, **key}, timeout=5)
    assert first.status_code == 202 and first.json() == {"status": "queued"}
    retry = requests.post(
        url, json=payload, headers={**HOOK, **key, "X-Gitlab-Event-UUID": "uuid-2"}, timeout=5
    )
    assert retry.status_code == 200 and retry.json() == {"status": "duplicate"}

    health = _wait(url, lambda d: d["processed"] + d["failed"] >= 1)
    assert health == {
        "status": "ok",
        "queued": 0,
        "queue_limit": 200,
        "processed": 1,
        "failed": 0,
        "dropped": 0,
    }
    assert "acme" in markers.index_by_marker(world.issues(TRIAGE, state="opened"), "triage")
    text = "".join(logs)
    assert SECRET not in text and "nope" not in text
    assert "f1c2a3b4-retry customer-success/accounts#" in text and "trigger: triage::needed" in text


def test_malformed_body_is_a_4xx_and_other_paths_404(served: tuple[World, str, list[str]]) -> None:
    _, url, _ = served
    bad = requests.post(url, data=b"{nope", headers=HOOK, timeout=5)
    assert bad.status_code == 400 and "expected a JSON body" in bad.json()["message"]
    wrong = requests.post(url, json={"object_kind": "issue"}, headers=HOOK, timeout=5)
    assert wrong.status_code == 400 and "path_with_namespace" in wrong.json()["message"]
    assert requests.get(f"{url}/elsewhere", timeout=5).status_code == 404
    assert requests.get(f"{url}/-/health", timeout=5).json()["processed"] == 0


def test_a_failing_payload_is_counted_and_the_worker_goes_on() -> None:
    seen: list[Any] = []

    def handle(data: Any) -> str:
        seen.append(data)
        if data == "boom":
            raise RuntimeError("GitLab said no")
        return "ok"

    class Quiet:
        def write(self, _text: str) -> None:
            pass

        def flush(self) -> None:
            pass

    app = WebhookApp(handle, SECRET, log=Quiet())  # type: ignore[arg-type]
    app.start()
    app.enqueue("a", "boom")
    app.enqueue("b", "fine")
    deadline = time.monotonic() + 30
    while app.failed + app.processed < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    app.stop()
    assert seen == ["boom", "fine"] and (app.failed, app.processed) == (1, 1)


def test_dedupe_is_bounded() -> None:
    d = Dedupe(size=2)
    assert d.first_time("a") and d.first_time("b") and not d.first_time("a")
    assert d.first_time("c")  # "a" is forgotten now
    assert d.first_time("a")


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError):
        WebhookApp(lambda _d: "", "")


# ---------------------------------------------------------------- across processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_gl_csm_serve_reacts_on_the_sandbox_state_file(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GITLAB_URL", "CI_SERVER_URL")}
    env["GL_CSM_WEBHOOK_SECRET"] = SECRET
    base = [sys.executable, "-m", "gl_csm", "--sandbox", "sb.json", "--today", "2026-11-23"]
    subprocess.run([*base, "triage"], cwd=workdir, env=env, check=True, capture_output=True)
    sb = Sandbox.load(workdir / "sb.json")
    gw = Gateway.for_transport(SandboxAdapter(sb))
    issue = markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")["acme-corp"]
    gw.update_issue(ACCOUNTS, issue["iid"], add_labels="triage::needed")
    payload = issue_hook(ACCOUNTS, gw.issue(ACCOUNTS, issue["iid"]), added=["triage::needed"])
    sb.save()

    port = _free_port()
    proc = subprocess.Popen(
        [*base, "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/-/health", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
                time.sleep(0.1)
        headers = {**HOOK, "X-Gitlab-Event-UUID": "9f1e-uuid"}
        assert requests.post(url, json=payload, headers=headers, timeout=5).status_code == 202
        assert requests.post(url, json=payload, headers=headers, timeout=5).status_code == 200
        health = _wait(url, lambda d: d["processed"] + d["failed"] >= 1)
        assert (health["processed"], health["failed"]) == (1, 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert SECRET not in err and "9f1e-uuid" in err
    after = Gateway.for_transport(SandboxAdapter(Sandbox.load(workdir / "sb.json")))
    opened = markers.index_by_marker(after.issues(TRIAGE, state="opened"), "triage")
    assert "acme-corp" in opened


def test_serve_reacts_to_a_row_added_to_the_trigger_table(
    served: tuple[World, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` hands payloads to `react`, which reads the one trigger table
    (services/triggers.py): a row added there is served with no other change."""
    from gl_csm.services import triggers
    from tests.services.test_triggers import HEALTH_CHECK, NEW_ROW

    monkeypatch.setattr(triggers, "TABLE", (*triggers.TABLE, NEW_ROW))
    world, url, logs = served
    issue = _tracking(world, "acme")
    world.person().update_issue(ACCOUNTS, issue["iid"], add_labels=HEALTH_CHECK)
    payload = issue_hook(
        ACCOUNTS, world.person().issue(ACCOUNTS, issue["iid"]), added=[HEALTH_CHECK]
    )
    assert requests.post(url, json=payload, headers=HOOK, timeout=5).status_code == 202
    health = _wait(url, lambda d: d["processed"] + d["failed"] >= 1)
    assert health["processed"] == 1 and health["failed"] == 0, logs
    assert f"trigger: {HEALTH_CHECK} added on" in "".join(logs)
    assert HEALTH_CHECK not in _tracking(world, "acme")["labels"]
