"""The golden transcripts under ``tests/stories/transcripts/``: compared, or rewritten
with ``pytest tests/stories --update-goldens``."""

from __future__ import annotations

from pathlib import Path

import pytest

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"


def check_transcript(request: pytest.FixtureRequest, name: str, text: str) -> None:
    """The story's transcript equals its golden file (rewritten with --update-goldens)."""
    path = TRANSCRIPTS / f"{name}.txt"
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} missing: run pytest tests/stories --update-goldens"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from what the story renders now: run pytest tests/stories "
        f"--update-goldens and read the diff as a CSM, a manager and the customer would"
    )
