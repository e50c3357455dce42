"""Progress of long runs on stderr (a 300-account first triage printed
nothing for 3.5 minutes).

On a terminal: a progress bar per phase (accounts planned, then changes applied) with
the writes so far, the ETA and the pacing note ("paced to 200 issues/min"). Elsewhere
(CI logs): one line every ``every`` items or every ``interval`` seconds, whichever
comes first, and one at the end of each phase. Nothing goes to stdout, so
``--format json`` stays parseable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

import click


class Progress:
    def __init__(
        self,
        stream: IO[str],
        *,
        tty: bool | None = None,
        every: int = 100,
        interval: float = 30.0,
        note: str = "",
        writes: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every
        self.interval = interval
        self.note = note
        self.writes = writes or (lambda: 0)
        self.clock = clock
        self._bar: Any = None
        self._phase = ""
        self._unit = ""
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._last_line = 0.0

    # -- phases ------------------------------------------------------------------------

    def start(self, phase: str, total: int, unit: str) -> None:
        """A new phase: ``total`` items of ``unit`` ("accounts", "changes")."""
        self.finish()
        self._phase, self._unit, self._total, self._done = phase, unit, total, 0
        self._started = self._last_line = self.clock()
        if total <= 0:
            return
        if self.tty:
            label = f"gl-csm: {phase} {unit}" + (f" ({self.note})" if self.note else "")
            self._bar = click.progressbar(
                length=total,
                label=label,
                file=self.stream,
                show_eta=True,
                show_pos=True,
                item_show_func=lambda _item: f"writes {self.writes()}",
            )
            self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._total <= 0:
            return
        self._done += n
        if self._bar is not None:
            self._bar.update(n, current_item=self._done)
            return
        now = self.clock()
        if self._done % self.every == 0 or now - self._last_line >= self.interval:
            self._line(now)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif self._total > 0 and self._done and not self.tty and self._done % self.every:
            self._line(self.clock())  # the last line of the phase
        self._total = 0

    def _line(self, now: float) -> None:
        self._last_line = now
        elapsed = now - self._started
        eta = ""
        if 0 < self._done < self._total:
            eta = f", about {elapsed / self._done * (self._total - self._done):.0f} s left"
        note = f"; {self.note}" if self.note else ""
        click.echo(
            f"gl-csm: {self._phase} {self._done}/{self._total} {self._unit}, "
            f"{self.writes()} writes, {elapsed:.0f} s{eta}{note}",
            file=self.stream,
        )


def pacing_note(pace: dict[str, int], paced: bool) -> str:
    """ "paced to 200 issues/min, 60 notes/min" when writes are spaced (a real GitLab)."""
    if not paced:
        return ""
    parts = [f"{n} {kind}/min" for kind, n in pace.items() if n]
    return f"paced to {', '.join(parts)}" if parts else ""
