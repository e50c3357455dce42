"""The sandbox over real HTTP (stdlib ``ThreadingHTTPServer``).

``serve()`` binds the socket and returns a ``SandboxServer`` that is not yet
serving. Then either:

- ``server.start()`` serves from a background (daemon) thread and returns the
  server, for tests: ``with serve(sb).start() as srv: ... srv.url ...``;
- ``server.serve_forever()`` blocks the calling thread until ``shutdown()``,
  Ctrl-C or SIGTERM (when called from the main thread), for ``gl-csm sandbox serve``.

State is saved (when the Sandbox has a path) by a saver thread at most about once
a second after writes, and once more on shutdown, so a killed client never loses
what the server accepted and thousands of writes do not each rewrite the file. A
large state (years of a portfolio's history file versions: tens of MB) takes a
while to write, and the save holds the store's lock: the saver then waits
SAVE_SHARE_INVERSE times as long as the last save took, so saving never takes more
than a small share of the server's time, whatever the state's size
(:func:`save_wait`).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any

from gl_csm.sandbox.core import Sandbox
from gl_csm.sandbox.faults import Answer, Drop, FaultInjector, Faults, token_of

SAVE_INTERVAL_S = 1.0
#: The saver's pause is at least this many times the last save's duration.
SAVE_SHARE_INVERSE = 10


def save_wait(last_save_s: float) -> float:
    """Seconds the saver waits before the next save: a second, or ten times the last
    save's duration when that is longer (a save is then at most ~9% of the time)."""
    return max(SAVE_INTERVAL_S, SAVE_SHARE_INVERSE * last_save_s)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY on every accepted socket (socketserver.StreamRequestHandler.setup), and
    # each answer leaves in one send (see _write): otherwise a kept-alive client waits
    # ~40 ms per request for its delayed ACK before Nagle releases the body.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and benchmarks do not want a line per request."""

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()}
        if owner.injector is not None:
            owner.injector.delay()
            decision = owner.injector.decide(token_of(headers))
            if isinstance(decision, Drop):
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if isinstance(decision, Answer):
                self._write(decision.status, decision.headers, decision.body)
                return
        host = self.headers.get("Host") or f"{owner.host}:{owner.port}"
        status, out_headers, content = owner.sandbox.handle(
            self.command, self.path, headers, body, f"http://{host}"
        )
        self._write(status, out_headers, content)

    def _write(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        # Status line, headers and body in one write (end_headers would flush the headers
        # on their own, and the body would follow as a second small segment).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(content)
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class SandboxServer:
    """A bound sandbox HTTP server; see the module docstring for start/serve_forever."""

    def __init__(
        self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        self.sandbox = sandbox
        self.faults = faults
        self.injector = FaultInjector(faults) if faults else None
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._saver: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Serve from a daemon thread; returns self. Idempotent."""
        if self._thread is None:
            self._start_saver()
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name=f"sandbox-http-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until shutdown(), Ctrl-C or SIGTERM; then save."""
        self._start_saver()
        previous = None
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)
            self._close()

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it must not run on this thread.
        threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def shutdown(self) -> None:
        """Stop serving, close the socket and save the state one last time."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._saver is not None:
            self._saver.join()
        self._httpd.server_close()
        self.sandbox.save()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # -- persistence ------------------------------------------------------------------------
    def _start_saver(self) -> None:
        if self._saver is None and self.sandbox.path is not None:
            self._saver = threading.Thread(
                target=self._save_loop, daemon=True, name=f"sandbox-saver-{self.port}"
            )
            self._saver.start()

    def _save_loop(self) -> None:
        saved, took = self.sandbox.write_count, 0.0
        while not self._stop.wait(save_wait(took)):
            current = self.sandbox.write_count
            if current != saved:
                start = time.monotonic()
                self.sandbox.save()
                saved, took = current, time.monotonic() - start


def serve(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
) -> SandboxServer:
    """Bind a sandbox HTTP server (port 0 = any free port); call .start() or .serve_forever()."""
    return SandboxServer(sandbox, host, port, faults)
