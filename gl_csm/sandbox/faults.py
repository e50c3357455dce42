"""Transport faults for reliability tests: latency, 502s, 429s, dropped connections.

The 429 imitates GitLab's Rack::Attack throttle (doc/user/gitlab_com/rate_limits.md,
doc/administration/settings/user_and_ip_rate_limits.md, "Response headers"):
a fixed window per token, body ``Retry later``, ``Retry-After`` in whole seconds
until the window frees, and ``RateLimit-*`` headers. python-gitlab sleeps for
``Retry-After`` when ``obey_rate_limit`` is on (the default).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate


@dataclass(frozen=True)
class Faults:
    """What to inject. All zero means a perfect network.

    latency_ms: added to every request; error_rate: share of requests answered 502
    without processing; rate_limit: requests per window per token (0 = unlimited),
    then 429; drop_rate: share of requests whose connection drops; seed: makes the
    random choices repeatable; window_s: rate-limit window (GitLab: 60 s).
    """

    latency_ms: float = 0
    error_rate: float = 0.0
    rate_limit: int = 0
    drop_rate: float = 0.0
    seed: int | None = None
    window_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0 or self.rate_limit < 0 or self.window_s <= 0:
            raise ValueError("Faults: latency_ms and rate_limit must be >= 0, window_s > 0")


@dataclass(frozen=True)
class Drop:
    """The connection is lost: no answer at all."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class FaultInjector:
    """Decides, per request, whether a fault replaces the real answer. Thread-safe."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self._clock = clock
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}
        self.injected: dict[str, int] = {"drop": 0, "502": 0, "429": 0}

    def delay(self) -> None:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000.0)

    def decide(self, token: str) -> Drop | Answer | None:
        with self._lock:
            # Draw both numbers every time so a seed gives the same sequence whatever
            # the rates are.
            drop_roll, error_roll = self._rng.random(), self._rng.random()
            if drop_roll < self.faults.drop_rate:
                self.injected["drop"] += 1
                return Drop()
            if error_roll < self.faults.error_rate:
                self.injected["502"] += 1
                return Answer(
                    502,
                    {"Content-Type": "text/html"},
                    b"<html><body><h1>502 Bad Gateway</h1></body></html>\n",
                )
            if self.faults.rate_limit:
                throttled = self._throttle(token)
                if throttled is not None:
                    self.injected["429"] += 1
                    return throttled
        return None

    def _throttle(self, token: str) -> Answer | None:
        now = self._clock()
        start, count = self._windows.get(token, (now, 0))
        if now - start >= self.faults.window_s:
            start, count = now, 0
        if count < self.faults.rate_limit:
            self._windows[token] = (start, count + 1)
            return None
        wait = max(1, math.ceil(start + self.faults.window_s - now))
        reset = int(time.time()) + wait
        headers = {
            "Content-Type": "text/plain",
            "Retry-After": str(wait),
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(self.faults.rate_limit),
            "RateLimit-Observed": str(count + 1),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
            "RateLimit-ResetTime": formatdate(reset, usegmt=True),
        }
        return Answer(429, headers, b"Retry later\n")


def token_of(headers: dict[str, str]) -> str:
    """The rate-limit key: the token sent, or one shared key for anonymous callers."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for key in ("private-token", "job-token"):
        if lowered.get(key):
            return lowered[key]
    auth = lowered.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return "anonymous"
