"""`gl-csm serve`: the `react` handler behind a GitLab webhook (SPEC 5 React).

GitLab's rules shape this server (doc/user/project/integrations/webhooks.md):

* GitLab.com waits 10 s for an answer, and after 4 consecutive failures it disables the
  hook (until a test succeeds, for 4xx). So the HTTP side only checks the secret
  token, decodes and validates the body, de-duplicates and queues: it answers 202 at
  once, and never 5xx (ARCHITECTURE "Dead webhook receiver"). A single worker thread
  then handles the payloads one at a time, each with a fresh runtime like a CLI run,
  so two reactions never interleave their plans.
* ``X-Gitlab-Token`` carries the secret; it is compared in constant time.
* A retried delivery carries the same ``Idempotency-Key`` (GitLab 17.4+), else the
  same ``X-Gitlab-Event-UUID``: the last 10,000 keys are remembered and a repeat is
  answered 200 without queueing. Plans are idempotent anyway.

The HTTP side is gl_csm/webhook_http.py (README "Webhook server"): one asyncio event
loop, where an idle or slow connection costs a few KiB and has a deadline for its head
and its body, and the secret is checked on the head, before any body is read.

The queue is bounded, in payloads and in bytes: when it is full a delivery is still
answered 202 (a 5xx would count towards disabling the hook) and counted as ``dropped``
in ``/-/health``; whatever is dropped, or still queued when the server stops, is caught
up by the scheduled triage, which re-reads every trigger label. A stop finishes the
payload in hand.
"""

from __future__ import annotations

import hmac
import json
import queue
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from gl_csm.config import Settings
from gl_csm.errors import GlCsmError
from gl_csm.runtime import open_runtime
from gl_csm.services.react import PayloadError, parse_event
from gl_csm.services.react import react as react_to
from gl_csm.webhook_http import Head, HookHTTPServer, Reply

SECRET_ENV = "GL_CSM_WEBHOOK_SECRET"
HEALTH_PATH = "/-/health"
MAX_BODY = 25 * 1024 * 1024  # GitLab caps webhook payloads at 25 MB by default
DEDUPE_SIZE = 10_000
#: Payloads waiting for the worker, and their bytes: what bounds the server's memory.
QUEUE_MAX = 200
QUEUE_BYTES = 64 * 1024 * 1024

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

    def forget(self, key: str) -> None:
        """A delivery that was not queued after all: its retry must be queued, not
        answered "duplicate" (GitLab redelivers with the same key)."""
        with self._lock:
            self._keys.pop(key, None)


class WebhookApp:
    """The queue, the worker and the counters behind the HTTP handler."""

    def __init__(
        self,
        handle: Handler,
        secret: str,
        *,
        log: TextIO | None = None,
        dedupe_size: int = DEDUPE_SIZE,
        queue_max: int = QUEUE_MAX,
        queue_bytes: int = QUEUE_BYTES,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.handle = handle
        self._secret = secret.encode("utf-8")
        self.log_stream = log if log is not None else sys.stderr
        self.dedupe = Dedupe(dedupe_size)
        self.queue: queue.Queue[tuple[str, Any, int]] = queue.Queue(maxsize=queue_max)
        self.queue_bytes = queue_bytes
        self.processed = 0
        self.failed = 0
        self.dropped = 0
        self.left = 0
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="gl-csm-react", daemon=True)

    # -- lifecycle
    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float | None = 600.0) -> None:
        """Let the payload in hand finish (a GitLab request is bounded by its deadline);
        what is still queued is left to the scheduled triage, and said so."""
        self._stopping.set()
        if self._worker.is_alive():
            self._worker.join(timeout)
        self.left = self.queue.qsize()
        if self.left:
            self.log(f"stopping: {self.left} queued payload(s) left to the scheduled triage")

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
                "queue_limit": self.queue.maxsize,
                "processed": self.processed,
                "failed": self.failed,
                "dropped": self.dropped,
            }

    def log(self, line: str) -> None:
        """One line per record, written whole: print() writes the text and its newline
        separately, so the HTTP side and the worker glued their lines together. Never
        the token or the secret."""
        record = "gl-csm serve: " + line.replace("\n", " ") + "\n"
        with self._log_lock:
            self.log_stream.write(record)
            self.log_stream.flush()

    def enqueue(self, label: str, data: Any, size: int = 0) -> bool:
        """Queue a payload; False (counted as dropped) when the queue is full, in count
        or bytes, or the server is stopping: the scheduled triage catches it up."""
        with self._lock:
            full = self._queued_bytes + size > self.queue_bytes or self._stopping.is_set()
            if not full:
                try:
                    self.queue.put_nowait((label, data, size))
                    self._queued_bytes += size
                except queue.Full:
                    full = True
            if full:
                self.dropped += 1
        if full:
            self.log(f"{label}: queue full, dropped (the scheduled triage catches it up)")
        return not full

    # -- the worker
    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                label, data, size = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            with self._lock:
                self._queued_bytes -= size
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

    # -- the HTTP side (gl_csm/webhook_http.py): the head first, then the body
    def on_head(self, head: Head) -> Reply | int:
        """Health, 404, 401 on the head alone (the body of an unsigned request is never
        read), 411/413 on its length; else the body length to read."""
        if head.method == "GET" and head.path == HEALTH_PATH:
            doc = self.health()
            return Reply(200 if doc["status"] == "ok" else 503, doc)
        if head.method != "POST":
            return Reply(404, {"message": "404 Not Found"})
        event_name = head.headers.get("x-gitlab-event", "?")
        if not self.token_ok(head.headers.get("x-gitlab-token")):
            self.log(f"rejected {event_name}: 401 wrong or missing X-Gitlab-Token")
            return Reply(401, {"message": "401 Unauthorized"}, close=True)
        if "transfer-encoding" in head.headers:
            return Reply(411, {"message": "expected a Content-Length header"}, close=True)
        try:
            length = int(head.headers.get("content-length", ""))
        except ValueError:
            return Reply(411, {"message": "expected a Content-Length header"}, close=True)
        if length <= 0:
            return Reply(400, {"message": "expected a JSON body (GitLab webhook payload)"})
        if length > MAX_BODY:
            message = f"body of {length} bytes is over {MAX_BODY}"
            self.log(f"rejected {event_name}: 413 {message}")
            return Reply(413, {"message": message}, close=True)
        return length

    def on_body(self, head: Head, raw: bytes) -> Reply:
        event_name = head.headers.get("x-gitlab-event", "?")
        data, problem = _decode_payload(raw)
        if problem is not None:
            self.log(f"rejected {event_name}: 400 {problem}")
            return Reply(400, {"message": problem})
        key = head.headers.get("idempotency-key") or head.headers.get("x-gitlab-event-uuid")
        label = _describe(data, key)
        if key and not self.dedupe.first_time(key):
            self.log(f"{label}: duplicate delivery, already queued once")
            return Reply(200, {"status": "duplicate"})
        queued = self.enqueue(label, data, len(raw))
        if key and not queued:
            self.dedupe.forget(key)
        return Reply(202, {"status": "queued" if queued else "dropped"})


def _check_label_lists(data: Any) -> None:
    """GitLab sends label lists as lists of objects with a string ``title``
    (doc/user/project/integrations/webhook_events.md "Issue events"); anything else is
    a forged or broken body, refused rather than read as "no labels"."""
    if not isinstance(data, dict) or data.get("object_kind") != "issue":
        return
    lists = [("labels", data.get("labels"))]
    changes = (data.get("changes") or {}).get("labels") or {}
    lists += [(f"changes.labels.{k}", changes.get(k)) for k in ("previous", "current")]
    for name, items in lists:
        if items is None:
            continue
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("title"), str) for i in items
        ):
            raise TypeError(f'"{name}" must be a list of labels with a string "title"')


def _decode_payload(raw: bytes) -> tuple[Any, str | None]:
    """The decoded body, or why it is not an Issue Hook payload to queue. Every
    malformed body is a 400 with the reason: bad JSON, nesting deeper than the parser
    allows, an integer of more than 4,300 digits, fields of the wrong type."""
    try:
        data = json.loads(raw)
    except RecursionError:
        return None, "expected a JSON body (GitLab webhook payload): nested too deep"
    except ValueError as exc:  # bad JSON or UTF-8, an integer over 4,300 digits
        return None, f"expected a JSON body (GitLab webhook payload): {exc}"
    try:
        parse_event(data, "request body")
        _describe(data, None)
        _check_label_lists(data)
    except PayloadError as exc:
        return None, str(exc)
    except (AttributeError, TypeError, ValueError, KeyError, RecursionError) as exc:
        return None, f"expected an Issue Hook payload (fields of the right types): {exc}"
    return data, None


def _describe(data: Any, key: str | None) -> str:
    """What a log line names: the delivery key and the issue (no secrets in a payload)."""
    project = (data.get("project") or {}).get("path_with_namespace", "?")
    iid = (data.get("object_attributes") or {}).get("iid", "?")
    return f"{key or 'no-delivery-key'} {project}#{iid}"


def make_server(app: WebhookApp, host: str, port: int, **limits: Any) -> HookHTTPServer:
    """The HTTP server bound to host:port (port 0: a free one) serving ``app``;
    ``limits``: head_timeout, body_timeout, max_connections (gl_csm/webhook_http.py)."""
    return HookHTTPServer(app, host, port, **limits)


def react_handler(
    settings: Settings, sandbox_path: Path, fixed_today: date | None
) -> Callable[[Any], str]:
    """What the worker does with one queued payload: `gl-csm react` on a fresh runtime
    (like a CLI run), dated by the clock unless ``--today`` fixed the date. Returns the
    line the log shows; a failure is raised (the worker counts it as failed)."""
    bot: dict[str, int | None] = {}

    def handle(data: Any) -> str:
        today = fixed_today or datetime.now(UTC).date()
        runtime = open_runtime(settings, today, sandbox_path, notice=False, probe=False)
        try:
            # The token's user, read once: what tells the bot's issues from a person's.
            if "id" not in bot:
                bot["id"] = runtime.gateway.check_connection().get("id")
            runtime.gateway.bot_id = bot["id"]
            reaction, outcome = react_to(runtime.gateway, settings, today, data)
        finally:
            runtime.close()
        if outcome.failures:
            raise GlCsmError("; ".join(f.to_text() for f in outcome.failures))
        return f"{reaction.line} ({len(outcome.changes)} change(s))"

    return handle
