"""Golden files: every text gl-csm renders for a customer, a CSM or a manager is kept
under ``tests/golden/files/`` and compared here, so a change of wording shows up as a
diff in review. Regenerate them with::

    .venv/bin/pytest tests/golden --update-goldens

then read the diff as its reader would before committing it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.golden.render import GOLDEN_DIR


def _on_disk() -> dict[str, Path]:
    files = sorted(p for p in GOLDEN_DIR.rglob("*") if p.is_file())
    return {p.relative_to(GOLDEN_DIR).as_posix(): p for p in files}


def test_goldens_match(rendered: dict[str, str], request: pytest.FixtureRequest) -> None:
    """Each rendered text equals its golden file; no golden file is left without a text."""
    if request.config.getoption("--update-goldens"):
        for name, path in _on_disk().items():
            if name not in rendered:
                path.unlink()
        for name, text in rendered.items():
            path = GOLDEN_DIR / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for folder in sorted(GOLDEN_DIR.rglob("*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    disk = _on_disk()
    missing = sorted(set(rendered) - set(disk))
    stale = sorted(set(disk) - set(rendered))
    changed = sorted(n for n in rendered if n in disk and disk[n].read_text("utf-8") != rendered[n])
    hint = "run `.venv/bin/pytest tests/golden --update-goldens` and review the diff"
    assert not missing, f"no golden file for {missing}; {hint}"
    assert not stale, f"golden files nothing renders any more: {stale}; {hint}"
    for name in changed:
        assert rendered[name] == disk[name].read_text("utf-8"), f"{name} changed; {hint}"


def test_every_kind_of_text_has_goldens(rendered: dict[str, str]) -> None:
    """The golden set covers every reader-facing text the issue lists."""
    names = "\n".join(rendered)
    for expected in (
        "projects/enterprise/strategic-pre-sales/files/README.md",
        "projects/enterprise/scale-post-sales/issues/welcome-call.md",
        "projects/commercial/commercial-post-sales/files/PLEASE-READ-THESE-INSTRUCTIONS.md",
        "bot/day1/accounts/tracking--initech.md",
        "bot/day1/triage/triage--initech.md",
        "bot/day1/escalations/escalation--initech.md",
        "bot/day1/accounts/handoff--globex--erin.md",
        "bot/day1/accounts/disengage--soylent.md",
        "bot/day1/accounts/will-churn--umbrella.md",
        "bot/report.md",
    ):
        assert expected in names, expected
    assert any("/accounts/reminder--" in n for n in rendered), "no reminder issue"


def test_golden_files_hold_no_stamp_or_digest(rendered: dict[str, str]) -> None:
    """People read no stamp or digest: a golden file's diff shows a change of text only
    (render.without_digests), never a digest that moved with an input no text shows."""
    digest = re.compile(r"\b[0-9a-f]{16}\b")
    assert [name for name, text in rendered.items() if digest.search(text)] == []
    assert [name for name, text in rendered.items() if "<!-- gl-csm inputs" in text] == []
