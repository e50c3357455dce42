"""`gl-csm sandbox serve` across processes (SPEC 7): seeding, token rule, faults.

Setup run twice against the served sandbox creates the taxonomy
once; with --error-rate 0.2 and --rate-limit 120 it still completes with the same end
state and no duplicate labels.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gl_csm.domain.taxonomy import CANONICAL

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITLAB_URL", "CI_SERVER_URL")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "gl_csm", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def start_server(workdir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gl_csm",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--state",
            str(workdir / "served.json"),
            *extra,
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/api/v4/user", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(
        "sandbox serve did not start: " + (proc.stderr.read() if proc.stderr else "")
    )


@pytest.fixture
def served(workdir: Path) -> Iterator[str]:
    proc, url = start_server(workdir)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _labels(url: str) -> list[str]:
    names: list[str] = []
    page = "1"
    while page:
        r = requests.get(
            f"{url}/api/v4/groups/customer-success/labels",
            params={"per_page": 100, "page": page},
            headers={"PRIVATE-TOKEN": "t"},
            timeout=10,
        )
        r.raise_for_status()
        names += [label["name"] for label in r.json()]
        page = r.headers.get("x-next-page", "")
    return names


def test_token_rule_and_seeding(served: str) -> None:
    """SPEC 7: any non-empty PRIVATE-TOKEN, 401 without; config groups/projects/users seeded."""
    assert requests.get(f"{served}/api/v4/user", timeout=5).status_code == 401
    h = {"PRIVATE-TOKEN": "anything"}
    assert (
        requests.get(
            f"{served}/api/v4/projects/customer-success%2Faccounts", headers=h, timeout=5
        ).status_code
        == 200
    )
    assert (
        requests.get(
            f"{served}/api/v4/groups/account-management%2Fpre-sales", headers=h, timeout=5
        ).status_code
        == 200
    )
    users = requests.get(
        f"{served}/api/v4/users", params={"username": "vp-cs"}, headers=h, timeout=5
    ).json()
    assert users and users[0]["username"] == "vp-cs"


def test_setup_twice_creates_taxonomy_once(workdir: Path, served: str) -> None:
    env = {"GITLAB_TOKEN": "any"}
    first = _cli(
        "--gitlab-url", served, "setup", "--format", "json", "--stats", cwd=workdir, env=env
    )
    assert json.loads(first.stdout)["stats"]["writes"] >= len(CANONICAL)
    second = _cli(
        "--gitlab-url", served, "setup", "--format", "json", "--stats", cwd=workdir, env=env
    )
    assert json.loads(second.stdout)["stats"]["writes"] == 0
    names = _labels(served)
    assert len(names) == len(set(names)) == len(CANONICAL)


def test_setup_under_errors_and_rate_limit_same_end_state(workdir: Path) -> None:
    proc, url = start_server(workdir, "--error-rate", "0.2", "--rate-limit", "120")
    try:
        run = _cli(
            "--gitlab-url",
            url,
            "setup",
            "--format",
            "json",
            "--stats",
            cwd=workdir,
            env={"GITLAB_TOKEN": "any"},
            check=False,
        )
        assert run.returncode == 0, run.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, url = start_server(workdir)  # same state file, no faults: look at the end state
    try:
        names = _labels(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert len(names) == len(set(names)) == len(CANONICAL)
