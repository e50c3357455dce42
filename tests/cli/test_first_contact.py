"""First contact (README "Run it for your team"): what a person trying gl-csm in a new
directory, on a busy port, against a GitLab that is not there, or pressing Ctrl-C sees —
one clear line each, with the exit code of SPEC 7 (2 usage, 130 interrupted)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gl_csm.cli import main

CLEAN = {"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": "", "GITLAB_CI": ""}


def invoke(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), env={**CLEAN, **(env or {})})
    finally:
        os.chdir(old)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [
        ("doctor",),
        ("setup",),
        ("setup", "--dry-run"),
        ("triage",),
        ("onboard", "acme-corp"),
        ("disengage", "acme-corp"),
        ("report", "--input", "triage-1.json"),
        ("react", "--payload", "hook.json"),
        ("will-churn", "acme-corp"),
    ],
    ids=lambda a: " ".join(a),
)
def test_empty_directory_says_no_config_here(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, out = invoke(tmp_path, *args)
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == [
        f"gl-csm: error: no gl-csm.yml here ({tmp_path}): run gl-csm in the team's "
        f"repository, give --config PATH, or create one with `gl-csm init`"
    ]
    assert "key 'groups'" not in out
    assert list(tmp_path.iterdir()) == []  # not even a sandbox file


def test_commands_that_need_no_layout_still_run_without_a_config(tmp_path: Path) -> None:
    """`assess` reads accounts/ alone (SPEC 7): no gl-csm.yml is needed for it."""
    import shutil

    shutil.copytree(Path(__file__).resolve().parents[2] / "accounts", tmp_path / "accounts")
    code, out = invoke(tmp_path, "assess", "acme-corp")
    assert code == 0 and "acme-corp" in out.lower(), out
    code, out = invoke(tmp_path, "templates", "check")
    assert "no gl-csm.yml here" not in out


def test_doctor_and_setup_work_once_init_wrote_the_config(tmp_path: Path) -> None:
    """What doctor suggests (`gl-csm setup`) works in the directory `init` made."""
    assert invoke(tmp_path, "init")[0] == 0
    code, out = invoke(tmp_path, "doctor")
    assert code == 2 and "gl-csm setup" in out  # the taxonomy is not there yet
    assert invoke(tmp_path, "setup")[0] == 0
    code, out = invoke(tmp_path, "doctor")
    assert code == 0, out


def test_the_sandbox_path_is_printed_whole(tmp_path: Path) -> None:
    assert invoke(tmp_path, "init")[0] == 0
    code, out = invoke(tmp_path, "setup", "--dry-run")
    assert code == 0, out
    whole = tmp_path / ".gl-csm" / "sandbox.json"
    assert f"using the built-in sandbox at {whole} " in out


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_sandbox_serve_on_a_port_in_use(tmp_path: Path, busy_port: int) -> None:
    code, out = invoke(tmp_path, "sandbox", "serve", "--port", str(busy_port))
    assert code == 2
    assert out.strip() == (
        f"gl-csm: error: --port {busy_port}: 127.0.0.1:{busy_port} is already in use "
        f"(another `gl-csm serve` or `sandbox serve`?); stop it or choose another --port"
    )
    # The state lock was let go: the next command may use the state file.
    assert invoke(tmp_path, "sandbox", "serve", "--port", str(busy_port))[0] == 2


def test_serve_on_a_port_in_use(tmp_path: Path, busy_port: int) -> None:
    assert invoke(tmp_path, "init")[0] == 0
    code, out = invoke(
        tmp_path, "serve", "--port", str(busy_port), env={"GL_CSM_WEBHOOK_SECRET": "s3cret"}
    )
    assert code == 2
    assert out.strip().splitlines()[-1] == (
        f"gl-csm: error: --port {busy_port}: 127.0.0.1:{busy_port} is already in use "
        f"(another `gl-csm serve` or `sandbox serve`?); stop it or choose another --port"
    )
    assert "Traceback" not in out


def test_refused_connection_is_exit_2_after_two_tries(tmp_path: Path) -> None:
    assert invoke(tmp_path, "init")[0] == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    code, out = invoke(
        tmp_path,
        "--gitlab-url",
        f"http://127.0.0.1:{port}",
        "setup",
        env={"GITLAB_TOKEN": "any"},
    )
    assert code == 2, out
    assert out.splitlines() == [
        "gl-csm: GitLab refused the connection, retry 1/1 in 0.1 s",
        f"gl-csm: error: read the token's user: could not reach GitLab at "
        f"http://127.0.0.1:{port} (ConnectionRefused); nothing was done (check the URL, "
        f"the network and GITLAB_TOKEN, or run `gl-csm doctor`)",
    ]


def test_ctrl_c_says_what_was_done_and_to_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted after one write: exit 130 (not click's "Aborted!" with exit 1, the
    code of "some accounts failed"), the writes counted, and rerun."""
    from gl_csm.plan import Plan
    from gl_csm.services import setup as setup_service

    real = setup_service.plan_setup

    def one_write_then_ctrl_c(gateway, settings):  # type: ignore[no-untyped-def]
        plan: Plan = real(gateway, settings)
        plan.changes[0].run(gateway, {})  # type: ignore[misc]
        raise KeyboardInterrupt

    monkeypatch.setattr(setup_service, "plan_setup", one_write_then_ctrl_c)
    assert invoke(tmp_path, "init")[0] == 0
    code, out = invoke(tmp_path, "setup")
    assert code == 130
    assert out.splitlines()[-1] == (
        "gl-csm: interrupted (Ctrl-C) after 1 write(s) to the sandbox; rerun the same "
        "command to finish: what was done is found again (by its hidden marker) and not "
        "repeated"
    )
    assert "Aborted!" not in out
    assert (tmp_path / ".gl-csm" / "sandbox.json").is_file()  # the state was saved


def test_ctrl_c_before_anything_was_sent(tmp_path: Path) -> None:
    """A real SIGINT to a running process: exit 130 and the one line."""
    assert invoke(tmp_path, "init")[0] == 0
    script = (
        "import os, signal, sys, time\n"
        "from gl_csm.services import setup\n"
        "def stop(*a, **k):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        # The handler runs at the interpreter's next check, which a loaded machine can
        # put after this function returned: wait for it here.
        "    time.sleep(30)\n"
        "setup.plan_setup = stop\n"
        "from gl_csm.cli import main\n"
        "sys.argv = ['gl-csm', 'setup']\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, **CLEAN},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "gl-csm: interrupted (Ctrl-C); nothing was written to the sandbox"
    )
