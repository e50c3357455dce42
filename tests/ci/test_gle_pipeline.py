"""The pipelines really run: the scheduled triage (4 shards, then the
report) and the trigger (react) jobs of .gitlab-ci.yml, run locally by `gle
--ignore-docker` (PyPI gitlab-emulator) against `gl-csm sandbox serve`, with the
variables GitLab sets: CI_PIPELINE_SOURCE, CI_NODE_INDEX/CI_NODE_TOTAL (gle's
--parallel I/N, like `parallel: 4`), TRIGGER_PAYLOAD (a file variable: a path) and
CI_SERVER_URL. (gle 16.3 runs a job named on its command line whatever its `rules`
say: it logs the rules it checks but does not skip a job none of them match, so the
rules are not what this test checks.)

The jobs' `pip install --quiet .` is served by a `pip` stand-in on PATH that only checks
it is asked to install this project: gl-csm is already installed in the test's
environment (the install itself is what `.ci/run` does), and installing the copy would
replace the editable install the test suite runs from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from tests.cli.test_sandbox_serve import _cli, start_server
from tests.services.react_support import issue_hook

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GLE = shutil.which("gle", path=str(Path(sys.executable).parent)) or shutil.which("gle")
ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
PIP = """#!/bin/sh
# Stand-in for the jobs' `pip install --quiet .` (see the test's docstring).
[ "$*" = "install --quiet ." ] && [ -f pyproject.toml ] || { echo "unexpected: pip $*"; exit 1; }
echo "gl-csm is installed: $(command -v gl-csm)"
"""


def _repository(tmp_path: Path) -> Path:
    """A clone's files the jobs use, as a git checkout (gle reads it like a runner)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (".gitlab-ci.yml", "gl-csm.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("ci", "accounts"):
        shutil.copytree(ROOT / folder, repo / folder)
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    subprocess.run(["git", "init", "-q", "."], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "ops repository"], cwd=repo, check=True)
    return repo


def _gle(repo: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "pip").write_text(PIP)
    (shim / "pip").chmod(0o755)
    path = os.pathsep.join([str(shim), str(Path(sys.executable).parent), os.environ["PATH"]])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CI", "GITLAB_", "GL_CSM_")) and k != "TRIGGER_PAYLOAD"
    }
    assert GLE is not None, "gle (gitlab-emulator) is in the test extras"
    return subprocess.run(
        [GLE, "--ignore-docker", *args],
        cwd=repo,
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_scheduled_triage_shards_report_and_trigger_react(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    proc, url = start_server(repo)
    try:
        _cli("--gitlab-url", url, "setup", cwd=repo, env={"GITLAB_TOKEN": "any"})
        common = ["--var", f"CI_SERVER_URL={url}", "--var", "GITLAB_TOKEN=any"]
        schedule = [*common, "--var", "CI_PIPELINE_SOURCE=schedule", "--var", "GL_CSM_JOB=triage"]
        # The project the pipeline runs in: the report keeps its artifacts only when it is
        # private (`doctor --dashboard`); the sandbox's private accounts project stands in.
        schedule += ["--var", f"CI_PROJECT_PATH={ACCOUNTS}"]

        slugs: list[str] = []
        for index in range(1, 5):
            shard = _gle(repo, tmp_path, *schedule, "--parallel", f"{index}/4", "triage")
            assert shard.returncode == 0, shard.stdout + shard.stderr
            assert "gl-csm is installed" in shard.stdout + shard.stderr
            doc = json.loads((repo / f"triage-{index}.json").read_text())
            slugs += [a["slug"] for a in doc["accounts"]]
        assert sorted(slugs) == sorted(p.stem for p in (repo / "accounts").glob("*.yml"))

        report = _gle(repo, tmp_path, *schedule, "triage-report")
        assert report.returncode == 0, report.stdout + report.stderr
        text = (repo / "report.md").read_text()
        assert f"{len(slugs)} accounts from shards 1/4, 2/4, 3/4, 4/4" in text
        gw = Gateway.connect(url, "any")
        summary = [
            i
            for i in gw.issues(ACCOUNTS)
            if markers.has_marker(i.get("description"), "report", "portfolio")
        ]
        assert len(summary) == 1

        # The trigger pipeline: a person adds triage::needed; GitLab runs `react` with the
        # Issue Hook in the file variable TRIGGER_PAYLOAD.
        tracking = markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")
        iid = tracking["acme-corp"]["iid"]
        gw.update_issue(ACCOUNTS, iid, add_labels="triage::needed")
        fresh = gw.issue(ACCOUNTS, iid)
        assert fresh is not None
        payload = tmp_path / "TRIGGER_PAYLOAD"
        payload.write_text(json.dumps(issue_hook(ACCOUNTS, fresh, added=["triage::needed"])))
        trigger = [*common, "--var", "CI_PIPELINE_SOURCE=trigger"]
        react = _gle(repo, tmp_path, *trigger, "--var", f"TRIGGER_PAYLOAD={payload}", "react")
        assert react.returncode == 0, react.stdout + react.stderr
        assert "trigger: triage::needed added on" in react.stdout + react.stderr
        opened = markers.index_by_marker(gw.issues(TRIAGE, state="opened"), "triage")
        assert "acme-corp" in opened, react.stdout + react.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
