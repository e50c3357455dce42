"""The HTTP side of `gl-csm serve`: a small HTTP/1.1 server on one asyncio event loop.

Why not a thread-per-connection server: a slow client (one byte every few seconds)
costs such a server a thread or a connection slot for as long as it likes, and a
thousand of them stop signed deliveries from GitLab, which waits 10 s for an answer and
disables a hook after 4 failures (doc/user/project/integrations/webhooks.md). Here an
idle or slow connection is a few KiB of memory on the event loop, and every one has a
deadline:

* the request head (request line and headers, at most ``HEAD_LIMIT`` bytes) must be
  complete ``head_timeout`` seconds after the connection is ready for it, idle
  kept-alive connections included;
* the secret in ``X-Gitlab-Token`` is checked on the head, before a byte of the body is
  read: an unsigned request is answered 401 and closed, so it never costs a body;
* a signed body must arrive at ``MIN_BODY_RATE`` bytes a second (after a
  ``body_timeout`` grace), and is held in memory, never spooled to disk;
* when ``max_connections`` are open, the connection that has waited longest for its
  head is closed to make room: a new connection always gets in, and one that sent its
  head (a signed delivery being read or answered) is never evicted.

The app behind it (``HeadApp``) answers in two steps: ``on_head`` (health, 404, 401,
413, or "go on") and ``on_body``, which runs in a thread so a large JSON body does not
stall the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 5.0
BODY_TIMEOUT = 5.0
#: Bytes a second a signed body must keep arriving at, after BODY_TIMEOUT: 25 MB in
#: about 4 minutes.
MIN_BODY_RATE = 100 * 1024
MAX_CONNECTIONS = 4096
BACKLOG = 2048
#: Set on every accepted connection: each answer leaves in one write, and without
#: TCP_NODELAY a kept-alive client would wait for its delayed ACK before Nagle sends it.
SOCKET_OPTIONS = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
REASONS = {
    100: "Continue",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Head:
    """A request's line and headers (names lower-cased)."""

    method: str
    path: str
    version: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    """An answer; ``close`` ends the connection after it."""

    status: int
    doc: dict[str, Any] = field(default_factory=dict)
    close: bool = False


class HeadApp(Protocol):
    def on_head(self, head: Head) -> Reply | int:
        """A Reply to answer at once, or the body length to read before ``on_body``."""

    def on_body(self, head: Head, body: bytes) -> Reply: ...

    def log(self, line: str) -> None: ...


def parse_head(raw: bytes) -> Head | None:
    """The request line and headers, or None when they are not HTTP/1.x."""
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    path = parts[1].split("?", 1)[0]
    return Head(parts[0], path, parts[2], headers)


def encode(reply: Reply, keep_alive: bool) -> bytes:
    """The answer's bytes, sent in one write: a JSON body, or a bare 100 Continue."""
    if reply.status == 100:
        return b"HTTP/1.1 100 Continue\r\n\r\n"
    body = json.dumps(reply.doc).encode("utf-8")
    lines = [
        f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: " + ("keep-alive" if keep_alive else "close"),
        "Server: gl-csm",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _raise_open_files(wanted: int) -> None:
    """Every connection is a file descriptor; a soft limit of 1,024 (a common default)
    would refuse connections long before ``max_connections``. Raised up to the hard
    limit, never beyond it."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class HookHTTPServer:
    """Bound at construction (port 0: a free one); ``serve_forever`` runs the loop in the
    calling thread until ``shutdown`` from another thread (tests, SIGTERM)."""

    def __init__(
        self,
        app: HeadApp,
        host: str,
        port: int,
        *,
        head_timeout: float = HEAD_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.app = app
        self.head_timeout = head_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.socket_options = SOCKET_OPTIONS
        _raise_open_files(max_connections + 256)
        self.sock = socket.create_server((host, port), backlog=BACKLOG)
        self.sock.setblocking(False)
        #: Connections waiting for their head, oldest first (the ones evicted when full).
        self._waiting: OrderedDict[int, asyncio.StreamWriter] = OrderedDict()
        self.open = 0
        self.evicted = 0
        self.timed_out = 0
        self._stop = threading.Event()
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    # -- lifecycle
    def serve_forever(self) -> None:
        self._running.set()
        try:
            asyncio.run(self._main())
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving (from another thread); waits for the loop to end when it runs.
        A shutdown asked before the loop started is kept: the loop then ends at once."""
        self._stop.set()
        if self._running.is_set():
            self._stopped.wait(15)

    def server_close(self) -> None:
        self.sock.close()

    async def _main(self) -> None:
        server = await asyncio.start_server(self._connection, sock=self.sock, limit=HEAD_LIMIT)
        async with server:
            while not self._stop.is_set():  # a thread-safe stop, looked at 10 times a second
                await asyncio.sleep(0.1)
            server.close()
            for writer in list(self._waiting.values()):
                writer.close()
            # The requests in hand finish (their body deadline bounds them).
            deadline = time.monotonic() + 10
            while self.open and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    # -- one connection
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            for level, option, value in self.socket_options:
                with contextlib.suppress(OSError):
                    sock.setsockopt(level, option, value)
        self.open += 1
        if self.open > self.max_connections and self._waiting:
            _, oldest = self._waiting.popitem(last=False)
            oldest.close()
            self.evicted += 1
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        except Exception as exc:  # noqa: BLE001 - one connection never stops the server
            self.app.log(f"connection dropped: {type(exc).__name__}: {exc}")
        finally:
            self._waiting.pop(id(writer), None)
            self.open -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read, answer; True to keep the connection for another request."""
        self._waiting[id(writer)] = writer
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout)
        except TimeoutError:
            self.timed_out += 1
            return False
        except asyncio.LimitOverrunError:
            await self._send(writer, Reply(431, {"message": "request head too large"}), False)
            return False
        finally:
            self._waiting.pop(id(writer), None)
        head = parse_head(raw[:-4])
        if head is None:
            await self._send(writer, Reply(400, {"message": "expected an HTTP/1.1 request"}), False)
            return False
        keep = head.version == "HTTP/1.1" and head.headers.get("connection", "").lower() != "close"
        first = self.app.on_head(head)
        if isinstance(first, Reply):
            keep = keep and not first.close
            await self._send(writer, first, keep)
            return keep
        length = first
        if head.headers.get("expect", "").lower() == "100-continue":
            await self._send(writer, Reply(100), True)
        allowed = self.body_timeout + length / MIN_BODY_RATE
        try:
            body = await asyncio.wait_for(reader.readexactly(length), allowed)
        except TimeoutError:
            self.timed_out += 1
            await self._send(writer, Reply(408, {"message": "body too slow"}), False)
            return False
        reply = await asyncio.to_thread(self.app.on_body, head, body)
        keep = keep and not reply.close
        await self._send(writer, reply, keep)
        return keep

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, reply: Reply, keep: bool) -> None:
        writer.write(encode(reply, keep))
        await writer.drain()
