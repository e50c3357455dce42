"""Every command's --help names GITLAB_TOKEN, the exit codes and a README section that
exists (issue 11 item 9): a user has the README, not the SPEC."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from gl_csm.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def test_every_help_names_the_token_exit_codes_and_readme_section() -> None:
    headings = {line.lstrip("#").strip() for line in README.splitlines() if line.startswith("#")}
    seen = 0
    for path in _commands(main):
        result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, path
        text = result.output
        assert "GITLAB_TOKEN" in text, path
        assert "Exit codes: 0 done" in text and "2 bad usage or config" in text, path
        section = re.search(r'README\.md, section "([^"]+)"', text)
        assert section and section.group(1) in headings, (path, section)
        assert not re.search(r"\bSPEC\b", text), (path, text)
        seen += 1
    assert seen >= 15
