"""Progress and honest output on long runs: a progress bar on a
terminal, one line per N accounts or per 30 s elsewhere, retries said on stderr, and
failed accounts on stderr with --format json too."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

from gl_csm.gitlab.gateway import Gateway
from gl_csm.progress import Progress
from gl_csm.sandbox import Sandbox, SandboxAdapter
from tests.cli.test_cli_basics import run

ROOT = Path(__file__).resolve().parents[2]


def _registry(folder: Path, n: int) -> None:
    folder.mkdir()
    segments = ("strategic", "growth", "scale", "commercial")
    for i in range(n):
        (folder / f"acct-{i:04d}.yml").write_text(
            f"name: Account {i}\nsegment: {segments[i % 4]}\nregion: EMEA\narr: {100000 + i}\n"
            f"plan: premium\ndeployment: saas\nseats: {{licensed: 100, active: 60}}\n"
            f"customer_since: 2024-03-01\nrenewal_date: 2027-05-15\n"
            f"team: {{csm: csm{i % 20}, sa: sa{i % 10}, ae: ae{i % 10}}}\n"
        )


def test_a_1000_account_triage_on_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    """In a pty (a terminal): click's bar on stderr with position, ETA and writes."""
    _registry(tmp_path / "accounts", 1000)
    shutil.copy(ROOT / "gl-csm.yml", tmp_path / "gl-csm.yml")
    env = {k: v for k, v in os.environ.items() if k not in ("GITLAB_URL", "CI_SERVER_URL", "CI")}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gl_csm", "--today", "2026-11-23", "triage", "--dry-run"],
        cwd=tmp_path,
        env={**env, "COLUMNS": "120"},
        stdin=slave,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=120) == 0
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "gl-csm: triage: planned accounts" in text
    assert re.search(r"\[#+-*\]\s+\d+/1000", text)  # a moving bar with its position
    assert "1000/1000" in text and "writes 0" in text
    assert not (tmp_path / ".gl-csm" / "sandbox.json").exists()  # a dry run wrote nothing


def test_ci_lines_every_n_items_or_every_30_seconds() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = Progress(out, tty=False, every=4, interval=30, clock=lambda: now[0])
    progress.writes = lambda: 7
    progress.note = "paced to 200 issues/min"
    progress.start("triage: planned", 10, "accounts")
    for step in range(10):
        now[0] += 1 if step != 5 else 31  # a slow account: the 30 s line comes early
        progress.advance()
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [re.search(r"planned (\d+)/10", line).group(1) for line in lines] == [  # type: ignore[union-attr]
        "4",
        "6",
        "8",
        "10",
    ]
    assert lines[0].endswith("7 writes, 4 s, about 6 s left; paced to 200 issues/min")


def test_triage_in_ci_prints_phases_on_stderr_and_json_failures(workdir: Path) -> None:
    (workdir / "accounts" / "zzz-broken.yml").write_text("name: Broken\nsegment: nope\n")
    code, out, err = run(workdir, "--today", "2026-11-23", "triage", "--format", "json")
    assert code == 1
    json.loads(out)  # stdout is still only the JSON
    assert re.search(r"gl-csm: triage: planned 13/13 accounts, 0 writes", err)
    assert re.search(r"gl-csm: triage: applied (\d+)/\1 changes, \d+ writes", err)
    assert "gl-csm: error: zzz-broken:" in err and "segment" in err


def test_retries_are_said_on_stderr(settings: object) -> None:
    """python-gitlab retries 5xx/429 silently (gitlab/utils.py Retry); the gateway says
    so with the wait it will take; a create retried by tenacity says so too."""
    sb = Sandbox()
    sb.inject("GET", r"/user$", 502, times=2)
    sb.inject("GET", r"/version$", 429, times=1, headers={"Retry-After": "0"})
    sb.inject("POST", r"/groups$", 503, times=1)
    gw = Gateway.for_transport(SandboxAdapter(sb))
    gw._create_wait_max = 0.0
    said: list[str] = []
    gw.retry_notices.notify = said.append
    gw.current_user()
    gw.version()
    gw.create("/groups", "create group", {"name": "x", "path": "x"}, find=lambda: None)
    assert said == [
        "GitLab answered 502, retry 1/8 in 0.1 s",
        "GitLab answered 502, retry 2/8 in 0.2 s",
        "GitLab answered 429, retry 1/8 in 0 s",
        "GitLab answered 503, retry 1/5 in 0.0 s (looked up first: no duplicate)",
    ]
