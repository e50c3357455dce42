"""Write pacing to GitLab.com's limits (issue creation 200/min, notes 60/min,
doc/user/gitlab_com/rate_limits.md), so a large first run is slowed, not failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class Pacer:
    """Spaces writes of one kind to at most N per minute (0 = no pacing).

    A first run over a large portfolio creates many issues and notes; GitLab.com
    answers 429 past 200 issues/min and 60 notes/min per user, and some of its APIs
    send no Retry-After. Spacing writes evenly keeps the run under the limit instead.
    """

    def __init__(
        self,
        per_minute: Mapping[str, int],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = {k: 60.0 / v for k, v in per_minute.items() if v and v > 0}
        self._next: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, kind: str) -> None:
        interval = self._interval.get(kind)
        if interval is None:
            return
        with self._lock:
            now = self._clock()
            at = max(now, self._next.get(kind, now))
            self._next[kind] = at + interval
        if at > now:
            self._sleep(at - now)
