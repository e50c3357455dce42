"""One writer per sandbox state file: the embedded sandbox of a CLI
run and `gl-csm sandbox serve` each hold the file's lock; a second one is refused with
a clear message (exit 2) instead of overwriting the other's writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gl_csm.state_lock import StateLock
from tests.cli.test_cli_basics import run
from tests.cli.test_sandbox_serve import start_server


def test_cli_refused_while_another_process_holds_the_state(workdir: Path) -> None:
    state = workdir / "sb.json"
    held = StateLock(state, "`gl-csm triage`").acquire()
    try:
        code, out, err = run(workdir, "setup")
        assert code == 2 and out == ""
        assert f"the sandbox state file {state} is in use by `gl-csm triage` (pid " in err
        assert "--sandbox PATH" in err and "Traceback" not in err
        assert not state.exists()  # nothing written
    finally:
        held.release()
    assert run(workdir, "setup")[0] == 0  # released: the next run goes


def test_a_dry_run_on_a_new_file_takes_no_lock_file(workdir: Path) -> None:
    assert run(workdir, "setup", "--dry-run")[0] == 0
    assert list(workdir.glob("sb.json*")) == []


@pytest.mark.slow
def test_sandbox_serve_holds_its_state_file(workdir: Path) -> None:
    proc, _url = start_server(workdir)
    try:
        code, _, err = run(workdir, "setup")  # sb.json: another file, fine
        assert code == 0, err
        state = workdir / "served.json"
        result = run(workdir, "--sandbox", str(state), "setup")  # the last --sandbox wins
        assert result[0] == 2 and "is in use by `gl-csm sandbox serve`" in result[2]
        second = subprocess.run(
            [sys.executable, "-m", "gl_csm", "sandbox", "serve", "--port", "0"]
            + ["--state", str(state)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2 and "is in use by `gl-csm sandbox serve`" in second.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    code, _, err = run(workdir, "--sandbox", str(workdir / "served.json"), "setup")
    assert code == 0, err
