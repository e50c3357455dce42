"""CLI tests run the embedded sandbox and `gl-csm sandbox serve` in subprocesses."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _marker_search(monkeypatch: pytest.MonkeyPatch) -> None:
    # i8-bot: the bot still finds its issues by a marker search, which GitLab's full-text
    # search never answers; drop this (back to full text) once it does not.
    monkeypatch.setenv("GL_CSM_SANDBOX_SEARCH", "ilike")
