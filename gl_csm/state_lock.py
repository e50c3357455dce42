"""One writer per sandbox state file.

The embedded sandbox (every command run without a GitLab) and `gl-csm sandbox serve`
each load the whole state file and save it back at the end: two of them on the same
file silently overwrite each other's writes. Each holds an exclusive lock on
``<state>.lock`` (``fcntl.flock``: released by the kernel when the process ends, even
killed) while it has the state loaded, and a second one is refused at once with a
message naming the holder, instead of waiting or losing writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from gl_csm.errors import ConfigError


class StateLock:
    def __init__(self, state: Path, holder: str) -> None:
        self.path = state.with_name(state.name + ".lock")
        self.state = state
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ConfigError(
                f"the sandbox state file {self.state} is in use by {other}; stop it first, "
                f"or give this command another file (--sandbox PATH, or --state PATH for "
                f"`sandbox serve`); against a running `gl-csm sandbox serve`, use "
                f"--gitlab-url http://127.0.0.1:PORT instead"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.holder} (pid {os.getpid()})".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
