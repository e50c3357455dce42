"""Counts of the HTTP requests actually sent (reads = GET/HEAD/OPTIONS, writes = the
rest), for ``--stats`` and the call-count tests; retries and dropped connections
included.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Stats:
    reads: int
    writes: int

    def to_json(self) -> dict[str, int]:
        return {"reads": self.reads, "writes": self.writes}


class CallCounter:
    """Thread-safe counts of the HTTP requests actually sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0

    def count(self, method: str) -> None:
        with self._lock:
            if method.upper() in READ_METHODS:
                self.reads += 1
            else:
                self.writes += 1

    def snapshot(self) -> Stats:
        with self._lock:
            return Stats(self.reads, self.writes)
