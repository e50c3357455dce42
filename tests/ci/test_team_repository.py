"""A CS team's repository from nothing (README "Run it for your team"): the built wheel
installed in a new virtual environment (`pip install gl-csm==VERSION`, from the wheel
alone), `gl-csm init`, then the scaffold's pipeline — its CI/CD components included by
version — run with `gle --ignore-docker` against `gl-csm sandbox serve`: the triage
shards, the report (file, summary issue, dashboard) and a reaction to a label.

gle knows no `include: component:`; tests/ci/components.py resolves it as GitLab does
(from this repository's templates/). The jobs find the installed `gl-csm` on PATH, as in
gl-csm's image, so their `pip install` of the package is not run. The new environment
takes gl-csm from the wheel and only its dependencies from the test environment (a .pth
line: no registry is asked).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests
import yaml

from gl_csm import __version__, markers
from gl_csm.gitlab.gateway import Gateway
from tests.ci.components import resolve
from tests.services.react_support import issue_hook

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GLE = shutil.which("gle", path=str(Path(sys.executable).parent)) or shutil.which("gle")
ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
SOURCES = ("pyproject.toml", "README.md", "gl_csm", "project_templates", "issue_templates")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _wheel(tmp_path: Path) -> Path:
    """The wheel, built from a copy of the sources (the checkout gets no build/)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy(ROOT / name, src / name)
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--wheel-dir",
        dist,
        src,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"gl_csm-{__version__}-py3-none-any.whl"
    return dist


def _install(tmp_path: Path, dist: Path) -> Path:
    """`pip install gl-csm==VERSION` into a new environment; its bin directory."""
    venv = tmp_path / "team-venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    _run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "--find-links",
        dist,
        f"gl-csm=={__version__}",
        cwd=tmp_path,
    )
    # Then the dependencies from the test environment (after the install, which would
    # otherwise see this checkout's editable gl-csm there; a plain path: its .pth files
    # are not read).
    Path(site.strip(), "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(python, "-c", "import gl_csm; print(gl_csm.__file__)", cwd=tmp_path)
    assert where.strip().startswith(str(venv)), where  # the wheel's, not the checkout's
    return venv / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(gl_csm: Path, team: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(gl_csm),
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--state",
            str(team.parent / "served.json"),
        ],
        cwd=team,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/api/v4/user", timeout=1)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else "ended") from None
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("sandbox serve did not answer")


def _gle(team: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CI", "GITLAB_", "GL_CSM_", "VIRTUAL_ENV")) and k != "TRIGGER_PAYLOAD"
    }
    # The installed gl-csm first (as in gl-csm's image); gle itself from the test tools.
    path = os.pathsep.join([str(bin_dir), os.environ["PATH"]])
    assert GLE is not None, "gle (gitlab-emulator) is in the test extras"
    return subprocess.run(
        [GLE, "--ignore-docker", "-c", "resolved-ci.yml", *args],
        cwd=team,
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_from_an_empty_directory_to_a_daily_pipeline(tmp_path: Path) -> None:
    bin_dir = _install(tmp_path, _wheel(tmp_path))
    gl_csm = bin_dir / "gl-csm"
    assert _run(gl_csm, "--version", cwd=tmp_path).strip() == f"gl-csm, version {__version__}"

    team = tmp_path / "team"
    team.mkdir()
    _run(gl_csm, "init", cwd=team)
    ci = yaml.safe_load((team / ".gitlab-ci.yml").read_text())
    assert all(i["component"].endswith(f"@{__version__}") for i in ci["include"])
    (team / "resolved-ci.yml").write_text(yaml.safe_dump(resolve(team / ".gitlab-ci.yml")))
    git = ["git", "-c", "user.name=cs", "-c", "user.email=cs@example.com"]
    _run("git", "init", "-q", ".", cwd=team)
    _run(*git, "add", "-A", cwd=team)
    _run(*git, "commit", "-qm", "gl-csm init", cwd=team)

    proc, url = _serve(gl_csm, team)
    try:
        token = {**os.environ, "GITLAB_TOKEN": "any"}
        _run(gl_csm, "--gitlab-url", url, "setup", cwd=team, env=token)
        doctor = subprocess.run(
            [str(gl_csm), "--gitlab-url", url, "doctor"],
            cwd=team,
            env=token,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr

        common = ["--var", f"CI_SERVER_URL={url}", "--var", "GITLAB_TOKEN=any"]
        schedule = [*common, "--var", "CI_PIPELINE_SOURCE=schedule", "--var", "GL_CSM_JOB=triage"]
        slugs: list[str] = []
        for index in range(1, 5):
            shard = _gle(team, bin_dir, *schedule, "--parallel", f"{index}/4", "gl-csm-triage")
            assert shard.returncode == 0, shard.stdout + shard.stderr
            assert f"gl-csm, version {__version__}" in shard.stdout + shard.stderr
            slugs += [
                a["slug"]
                for a in json.loads((team / f"triage-{index}.json").read_text())["accounts"]
            ]
        assert sorted(slugs) == sorted(p.stem for p in (team / "accounts").glob("*.yml"))

        report = _gle(team, bin_dir, *schedule, "gl-csm-report")
        assert report.returncode == 0, report.stdout + report.stderr
        text = (team / "report.md").read_text()
        assert "4 accounts from shards 1/4, 2/4, 3/4, 4/4" in text
        assert "Shards missing" not in text
        assert (team / "dashboard" / "index.html").is_file()
        gw = Gateway.connect(url, "any")
        summary = [
            i
            for i in gw.issues(ACCOUNTS)
            if markers.has_marker(i.get("description"), "report", "portfolio")
        ]
        assert len(summary) == 1
        # Every output is ignored by the scaffold's .gitignore: nothing to commit.
        status = _run("git", "status", "--porcelain", "--untracked-files=all", cwd=team)
        assert status.strip() == "", status

        # A person adds triage::needed to a healthy account's tracking issue; the webhook's
        # trigger pipeline runs the react component with the Issue Hook.
        tracking = markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")
        iid = tracking["example-strategic"]["iid"]
        gw.update_issue(ACCOUNTS, iid, add_labels="triage::needed")
        fresh = gw.issue(ACCOUNTS, iid)
        assert fresh is not None
        payload = tmp_path / "TRIGGER_PAYLOAD"
        payload.write_text(json.dumps(issue_hook(ACCOUNTS, fresh, added=["triage::needed"])))
        trigger = [
            *common,
            "--var",
            "CI_PIPELINE_SOURCE=trigger",
            "--var",
            f"TRIGGER_PAYLOAD={payload}",
        ]
        react = _gle(team, bin_dir, *trigger, "gl-csm-react")
        assert react.returncode == 0, react.stdout + react.stderr
        assert "trigger: triage::needed added on" in react.stdout + react.stderr
        opened = markers.index_by_marker(gw.issues(TRIAGE, state="opened"), "triage")
        assert "example-strategic" in opened, react.stdout + react.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
