"""How the edition and the search switch reach the sandbox: `gl-csm sandbox serve
--edition/--search` and the embedded sandbox (`gitlab_edition`, SPEC 7.1)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import requests

from gl_csm.config import load_settings
from gl_csm.errors import ConfigError
from gl_csm.runtime import open_runtime
from tests.cli.test_sandbox_serve import start_server

H = {"PRIVATE-TOKEN": "t"}


def _issue_search(url: str) -> list[dict]:
    project = f"{url}/api/v4/projects/customer-success%2Faccounts"
    made = requests.post(f"{project}/issues", headers=H, json={"title": "Acme renewal"}, timeout=10)
    assert made.status_code == 201
    found = requests.get(f"{project}/issues", headers=H, params={"search": "renewal"}, timeout=10)
    return list(found.json())


@pytest.mark.slow
def test_serve_defaults_to_free_and_full_text(workdir: Path) -> None:
    """`sandbox serve` with no flag: the strictest tier, GitLab's search."""
    proc, url = start_server(workdir)
    try:
        assert [i["title"] for i in _issue_search(url)] == ["Acme renewal"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    first_line = (proc.stderr.read() if proc.stderr else "").splitlines()[0]
    assert json.loads(first_line)["edition"] == "free"
    assert json.loads(first_line)["search"] == "fulltext"


@pytest.mark.slow
def test_serve_premium_with_search_none(workdir: Path) -> None:
    """`--edition premium --search none`: scoped labels exclusive, every search empty."""
    proc, url = start_server(workdir, "--edition", "premium", "--search", "none")
    try:
        assert _issue_search(url) == []
        project = f"{url}/api/v4/projects/customer-success%2Faccounts"
        r = requests.put(f"{project}/issues/1", headers=H, json={"labels": "s::a,s::b"}, timeout=10)
        assert r.json()["labels"] == ["s::b"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    first_line = (proc.stderr.read() if proc.stderr else "").splitlines()[0]
    assert (json.loads(first_line)["edition"], json.loads(first_line)["search"]) == (
        "premium",
        "none",
    )


def test_embedded_sandbox_follows_gitlab_edition(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded sandbox is the tier `gitlab_edition` names (default free);
    GL_CSM_SANDBOX_SEARCH switches its issue search."""
    monkeypatch.delenv("GL_CSM_SANDBOX_SEARCH", raising=False)
    config = workdir / "gl-csm.yml"
    settings = load_settings(config, environ={})
    runtime = open_runtime(settings, date(2026, 11, 23), workdir / "sb.json", notice=False)
    assert runtime.sandbox is not None
    assert (runtime.sandbox.edition, runtime.sandbox.search) == ("free", "fulltext")
    runtime.close()  # releases the state file's lock (one writer per state file)
    config.write_text(config.read_text() + "gitlab_edition: premium\n")
    monkeypatch.setenv("GL_CSM_SANDBOX_SEARCH", "none")
    settings = load_settings(config, environ={})
    runtime = open_runtime(settings, date(2026, 11, 23), workdir / "sb.json", notice=False)
    assert runtime.sandbox is not None
    assert (runtime.sandbox.edition, runtime.sandbox.search) == ("premium", "none")
    runtime.close()
    monkeypatch.setenv("GL_CSM_SANDBOX_SEARCH", "sometimes")
    with pytest.raises(ConfigError, match="GL_CSM_SANDBOX_SEARCH: expected one of"):
        open_runtime(settings, date(2026, 11, 23), workdir / "sb.json", notice=False)
