"""CLI tests run the embedded sandbox and `gl-csm sandbox serve` in subprocesses."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _not_a_gitlab_ci_job(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite itself may run in a GitLab CI job: its GITLAB_CI / CI_PROJECT_PATH would make
    # every command a CLI test spawns commit registry edits to that project. Tests that
    # simulate a job set these variables themselves.
    for name in (
        "GITLAB_CI",
        "CI_PROJECT_PATH",
        "CI_PROJECT_DIR",
        "CI_SERVER_URL",
        "CI_MERGE_REQUEST_IID",
        "CI_MERGE_REQUEST_PROJECT_PATH",
        "GITLAB_URL",
        "GITLAB_TOKEN",
        "GL_CSM_SANDBOX_SEARCH",
    ):
        monkeypatch.delenv(name, raising=False)
