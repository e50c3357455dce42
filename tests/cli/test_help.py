"""Every command's --help names GITLAB_TOKEN, the exit codes and a README section that
exists: a user has the README, not the SPEC."""

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
        exits = re.search(r"Exit codes: (.*?)\n\n", text, re.S)
        assert exits, path
        if len(path) == 1 and path[0] in ("templates", "sandbox", "accounts") or not path:
            assert "each command's --help states its own" in exits.group(1), path
        else:
            codes = " ".join(exits.group(1).split())
            assert codes.startswith("0 ") and "bad usage" in codes, (path, codes)
            assert "130 interrupted (Ctrl-C)" in codes, path
        section = re.search(r'README\.md, section "([^"]+)"', text)
        assert section and section.group(1) in headings, (path, section)
        assert not re.search(r"\bSPEC\b", text), (path, text)
        seen += 1
    assert seen >= 15


def _help(*path: str) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, path
    return " ".join(result.output.split())


def test_each_help_states_its_own_exit_codes() -> None:
    """Not one block for all: a command claims an exit code only when it can give it."""
    report = _help("report")
    assert "some accounts failed" not in report
    assert "1 a shard result was missing, empty or broken" in report
    assessed = _help("assess")
    assert "GitLab unreachable" not in assessed and "refusing the token" not in assessed
    assert "1 a registry file could not be read" in assessed
    assert "2 a check failed" in _help("doctor")
    assert "the port in use" in _help("serve") and "the port in use" in _help("sandbox", "serve")
    assert "1 some accounts failed" in _help("triage")
    assert "2 a malformed payload" in _help("react")


def test_serve_points_at_the_webhook_server_section() -> None:
    assert 'README.md, section "Webhook server"' in _help("serve")
    assert 'README.md, section "Run it for your team"' in _help("init")


def test_commit_registry_only_where_the_registry_is_edited() -> None:
    """README "Registry changes": onboard and promote write `project:`, handoff
    `team.csm`, accounts import the CRM keys; triage and react promote (action::promote)."""
    editing = {
        ("onboard",),
        ("promote",),
        ("handoff",),
        ("triage",),
        ("react",),
        ("accounts", "import"),
    }
    offered = {path for path in _commands(main) if path and "--commit-registry" in _help(*path)}
    assert offered == editing
