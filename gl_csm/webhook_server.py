"""`gl-csm serve`: the `react` handler behind a GitLab webhook (SPEC 5 React).

GitLab's rules shape this server (doc/user/project/integrations/webhooks.md):

* GitLab.com waits 10 s for an answer, and after 4 consecutive failures it disables the
  hook (until a test succeeds, for 4xx). So the HTTP thread only checks the secret
  token, decodes and validates the body, de-duplicates and queues: it answers 202 at
  once, and never 5xx for a payload it can queue (ARCHITECTURE "Dead webhook receiver").
  A single worker thread then handles the payloads one at a time, each with a fresh
  runtime like a CLI run, so two reactions never interleave their plans.
* ``X-Gitlab-Token`` carries the secret; it is compared in constant time.
* A retried delivery carries the same ``Idempotency-Key`` (GitLab 17.4+), else the
  same ``X-Gitlab-Event-UUID``: the last 10,000 keys are remembered and a repeat is
  answered 200 without queueing. Plans are idempotent anyway.

Whatever is lost (a delivery GitLab gave up on, the queue of a stopped server) is caught
up by the scheduled triage, which re-reads every trigger label.
"""

from __future__ import annotations

import hmac
import json
import queue
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from gl_csm.services.react import PayloadError, parse_event

SECRET_ENV = "GL_CSM_WEBHOOK_SECRET"
HEALTH_PATH = "/-/health"
MAX_BODY = 25 * 1024 * 1024  # GitLab caps webhook payloads at 25 MB by default
DEDUPE_SIZE = 10_000

#: Handles one decoded payload; returns the one-line result to log (raises on failure).
Handler = Callable[[Any], str]


class Dedupe:
    """The last ``size`` delivery keys seen (bounded, oldest forgotten first)."""

    def __init__(self, size: int = DEDUPE_SIZE) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """Record ``key``; False when it was already seen."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)
            return True


class WebhookApp:
    """The queue, the worker and the counters behind the HTTP handler."""

    def __init__(
        self,
        handle: Handler,
        secret: str,
        *,
        log: TextIO | None = None,
        dedupe_size: int = DEDUPE_SIZE,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.handle = handle
        self._secret = secret.encode("utf-8")
        self.log_stream = log if log is not None else sys.stderr
        self.dedupe = Dedupe(dedupe_size)
        self.queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self.processed = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="gl-csm-react", daemon=True)

    # -- lifecycle
    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the payload in hand finish; what is still queued is left to the schedule."""
        self.queue.put(None)
        if self._worker.is_alive():
            self._worker.join(timeout)

    @property
    def alive(self) -> bool:
        return self._worker.is_alive()

    # -- used by the HTTP handler
    def token_ok(self, token: str | None) -> bool:
        # Constant time, so the secret cannot be guessed byte by byte from timings.
        return token is not None and hmac.compare_digest(token.encode("utf-8"), self._secret)

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "ok" if self.alive else "worker stopped",
                "queued": self.queue.qsize(),
                "processed": self.processed,
                "failed": self.failed,
            }

    def log(self, line: str) -> None:
        # One line per payload; never the token or the secret.
        print(f"gl-csm serve: {line}", file=self.log_stream, flush=True)

    def enqueue(self, label: str, data: Any) -> None:
        self.queue.put((label, data))

    # -- the worker
    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            label, data = item
            try:
                result = self.handle(data)
            except Exception as exc:  # noqa: BLE001 - one bad payload must not stop the worker
                with self._lock:
                    self.failed += 1
                self.log(f"{label}: failed: {type(exc).__name__}: {exc}")
            else:
                with self._lock:
                    self.processed += 1
                self.log(f"{label}: {result}")


def _describe(data: Any, key: str | None) -> str:
    """What a log line names: the delivery key and the issue (no secrets in a payload)."""
    project = (data.get("project") or {}).get("path_with_namespace", "?")
    iid = (data.get("object_attributes") or {}).get("iid", "?")
    return f"{key or 'no-delivery-key'} {project}#{iid}"


class _Handler(BaseHTTPRequestHandler):
    server_version = "gl-csm"
    app: WebhookApp  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the per-request access log: the app logs one line per payload."""

    def _answer(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] == HEALTH_PATH:
            doc = self.app.health()
            ok = doc["status"] == "ok"
            self._answer(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, doc)
        else:
            self._answer(HTTPStatus.NOT_FOUND, {"message": "404 Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        app = self.app
        event_name = self.headers.get("X-Gitlab-Event", "?")
        if not app.token_ok(self.headers.get("X-Gitlab-Token")):
            app.log(f"rejected {event_name}: 401 wrong or missing X-Gitlab-Token")
            self._answer(HTTPStatus.UNAUTHORIZED, {"message": "401 Unauthorized"})
            return
        data, problem = self._read_json()
        if problem is not None:
            app.log(f"rejected {event_name}: 400 {problem}")
            self._answer(HTTPStatus.BAD_REQUEST, {"message": problem})
            return
        key = self.headers.get("Idempotency-Key") or self.headers.get("X-Gitlab-Event-UUID")
        label = _describe(data, key)
        if key and not app.dedupe.first_time(key):
            app.log(f"{label}: duplicate delivery, already queued once")
            self._answer(HTTPStatus.OK, {"status": "duplicate"})
            return
        app.enqueue(label, data)
        self._answer(HTTPStatus.ACCEPTED, {"status": "queued"})

    def _read_json(self) -> tuple[Any, str | None]:
        """The decoded body, or why it is not an Issue Hook payload we can queue."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None, "expected a Content-Length header"
        if length <= 0:
            return None, "expected a JSON body (GitLab webhook payload)"
        if length > MAX_BODY:
            return None, f"body of {length} bytes is over {MAX_BODY}"
        raw = self.rfile.read(length)
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"expected a JSON body (GitLab webhook payload): {exc}"
        try:
            parse_event(data, "request body")
        except PayloadError as exc:
            return None, str(exc)
        return data, None


def make_server(app: WebhookApp, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server bound to host:port (port 0: a free one) serving ``app``."""
    handler = type("WebhookHandler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
