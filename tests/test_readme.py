"""The README is what a new user reads: its commands and rule names must stay true."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gl_csm.cli import main
from gl_csm.domain.rules import describe_rules

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_rule_name_is_documented() -> None:
    """SPEC 8: every (config) default lives under rules: with a name the README lists."""
    missing = [name for name, _, _ in describe_rules() if f"`{name}`" not in README]
    assert missing == []


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _bash_blocks(text: str) -> list[list[str]]:
    """The command lines of each ```bash block (comments dropped)."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [
        [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
        for block in blocks
    ]


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    """The quick start is exactly two commands on a fresh machine: one installs
    and runs the main job on the sandbox, one installs and runs the tests (.ci/run)."""
    blocks = _bash_blocks(_section("Quick start"))
    demo, tests = blocks[0], blocks[1]
    assert len(demo) == 1 and len(tests) == 1
    install = "python3.11 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    assert demo[0] == f"{install} && .venv/bin/gl-csm demo"
    assert tests[0] == f"{install} && .venv/bin/pytest"
    commands = [
        line
        for line in CI_RUN.splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd ", "sudo ", "apt"))
    ]
    assert commands[-1] == tests[0]


def test_the_first_command_prints_the_main_jobs_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gl-csm demo` as a fresh clone runs it (the install part is the test command's)."""
    shutil.copytree(ROOT / "accounts", tmp_path / "accounts")
    shutil.copy(ROOT / "gl-csm.yml", tmp_path / "gl-csm.yml")
    monkeypatch.chdir(tmp_path)
    before = {p.name: p.read_text() for p in (tmp_path / "accounts").glob("*.yml")}
    result = CliRunner().invoke(
        main, ["demo"], env={"GITLAB_URL": "https://gitlab.example.com", "GITLAB_TOKEN": ""}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "12 collaboration projects" in out and "1 triage issue," in out
    assert "not onboarded: pied-piper (digital customer" in out
    assert "Report:  .gl-csm/demo/report.md" in out
    report = (tmp_path / ".gl-csm" / "demo" / "report.md").read_text()
    assert "# Customer Success portfolio report" in report
    assert before == {p.name: p.read_text() for p in (tmp_path / "accounts").glob("*.yml")}


@pytest.mark.parametrize("marker", ["gl-csm assess --by-csm", "gl-csm verify tyrell"])
def test_examples_work_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str
) -> None:
    """Every line of the README's sandbox examples exits 0 in a fresh clone."""
    block = next(b for b in _bash_blocks(README) if marker in b)
    shutil.copytree(ROOT / "accounts", tmp_path / "accounts")
    shutil.copy(ROOT / "gl-csm.yml", tmp_path / "gl-csm.yml")
    monkeypatch.chdir(tmp_path)
    env = {"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": ""}
    for line in block:
        argv = shlex.split(line)
        assert argv[0] == "gl-csm", line
        result = CliRunner().invoke(main, argv[1:], env=env)
        assert result.exit_code == 0, (line, result.output)


@pytest.mark.slow
def test_run_it_for_your_team_rehearsal_works_on_sandbox_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rehearsal of "Run it for your team", line by line, against `gl-csm sandbox
    serve` started in the new repository (as the README says): each line exits 0, or
    the code its comment names."""
    from tests.cli.test_sandbox_serve import start_server

    text = _section("Run it for your team")
    block = re.findall(r"```bash\n(.*?)```", text, re.S)[-1]
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines[0].startswith("gl-csm init ") and lines[1].startswith("cd ")
    monkeypatch.chdir(tmp_path)
    proc = None
    env = {"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": "any"}
    try:
        for line in lines:
            command, _, comment = line.partition("  #")
            expected = re.search(r"exit (\d+)", comment)
            argv = shlex.split(command)
            if argv[0] == "cd":
                monkeypatch.chdir(Path.cwd() / argv[1])
                proc, url = start_server(Path.cwd())
                env["GITLAB_URL"] = url
                continue
            assert argv[0] == "gl-csm", line
            output = None
            if ">" in argv:
                argv, output = argv[: argv.index(">")], argv[argv.index(">") + 1]
            result = CliRunner().invoke(main, argv[1:], env=env)
            assert result.exit_code == (int(expected.group(1)) if expected else 0), (
                line,
                result.output,
            )
            if output:
                Path(output).write_text(result.stdout)
        assert (Path.cwd() / "report.md").is_file() and (Path.cwd() / "dashboard").is_dir()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
