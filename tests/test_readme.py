"""The README is what a new user reads: its commands and rule names must stay true."""

from __future__ import annotations

from pathlib import Path

from gl_csm.domain.rules import describe_rules

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CI_RUN = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_every_rule_name_is_documented() -> None:
    """SPEC 8: every (config) default lives under rules: with a name the README lists."""
    missing = [name for name, _, _ in describe_rules() if f"`{name}`" not in README]
    assert missing == []


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run must call the README's install and test commands."""
    install = "python3.11 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    assert install in README
    assert ".venv/bin/pytest" in README
    assert "python3.11 -m venv .venv && .venv/bin/pip install" in CI_RUN
    assert ".venv/bin/pytest" in CI_RUN
