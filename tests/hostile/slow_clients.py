"""Slow clients that hold connections to a server on loopback: each sends a request head
one byte at a time and never ends it, and is reopened when the server closes it. Driven
by tests/hostile/test_slow_clients.py and benchmarks/bench_serve.py (which puts the
repository on ``sys.path``, as benchmarks/bench_single_account.py does for its support
module), so the test and the load test hold connections the same way."""

from __future__ import annotations

import selectors
import socket
import threading
import time

#: A request head that, sent a byte at a time, never reaches its blank line (the end
#: of a head, RFC 9112 section 2.1): the server can only close it at its head deadline.
HEAD = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Gitlab-Event: Issue Hook\r\n\r\n"


class SlowClients:
    """``count`` connections to 127.0.0.1:``port``, each sent one more byte of ``head``
    every ``every`` seconds (never its final blank line: the last byte before it is
    repeated), reopened when the server closes them; one thread (selectors), until
    stopped. ``held`` is the number of connections that took a byte, at each tick."""

    def __init__(self, port: int, count: int, every: float, head: bytes = HEAD) -> None:
        self.port, self.count, self.every = port, count, every
        self.head = head
        self.limit = head.index(b"\r\n\r\n")
        self.stop = threading.Event()
        self.opened = 0
        self.closed_by_server = 0
        self.held: list[int] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def held_peak(self) -> int:
        return max(self.held, default=0)

    def _open(self, sel: selectors.BaseSelector) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", self.port))
        sel.register(sock, selectors.EVENT_READ, 0)
        self.opened += 1

    def _reopen_closed(self, sel: selectors.BaseSelector) -> None:
        """Each connection the server closed (or answered) is replaced by a new one."""
        for key, _ in sel.select(timeout=0.05):
            sock = key.fileobj
            try:
                gone = not sock.recv(4096)  # type: ignore[union-attr]
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                self.closed_by_server += 1
                sel.unregister(sock)
                sock.close()  # type: ignore[union-attr]
                self._open(sel)

    def _trickle(self, sel: selectors.BaseSelector) -> None:
        """One more byte on every connection; those that took it are held."""
        held = 0
        for key in list(sel.get_map().values()):
            pos = key.data
            try:
                key.fileobj.send(self.head[pos : pos + 1])  # type: ignore[union-attr]
                sel.modify(key.fileobj, selectors.EVENT_READ, min(pos + 1, self.limit - 1))
                held += 1
            except OSError:
                pass  # still connecting, or just closed by the server
        self.held.append(held)

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(sel)
        tick = time.monotonic()
        while not self.stop.is_set():
            self._reopen_closed(sel)
            if time.monotonic() >= tick:
                tick += self.every
                self._trickle(sel)
        for key in list(sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        sel.close()

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(30)
