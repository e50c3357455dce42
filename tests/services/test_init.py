"""`gl-csm init [DIR]` (README "Run it for your team"): a team's repository from
nothing — every file planned first, never one overwritten, a rerun writes nothing."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gl_csm import __version__
from gl_csm.cli import main
from gl_csm.config import load_settings
from gl_csm.domain.account import SEGMENTS
from gl_csm.errors import UsageError
from gl_csm.services.assess import run_assess
from gl_csm.services.init import FILES, plan_init

ROOT = Path(__file__).resolve().parents[2]
TREE = {
    ".gitignore",
    ".gitlab-ci.yml",
    "README.md",
    "gl-csm.yml",
    *(f"accounts/example-{s}.yml" for s in SEGMENTS),
}


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_the_team_repository_and_a_rerun_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cs-ops"
    outcome = plan_init(folder).apply(None)
    assert outcome.exit_code == 0 and len(outcome.changes) == len(TREE)
    assert _tree(folder) == TREE
    again = plan_init(folder)
    assert again.changes == [] and "nothing to do" in again.notes[0]


def test_the_config_and_every_example_account_are_valid(tmp_path: Path) -> None:
    plan_init(tmp_path).apply(None)
    settings = load_settings(tmp_path / "gl-csm.yml", explicit=True, environ={})
    assert settings.groups is not None and settings.projects is not None
    run = run_assess(settings.accounts_dir, settings.rules, date(2026, 12, 1))
    assert not run.problems
    segments = sorted(
        yaml.safe_load(p.read_text())["segment"] for p in (tmp_path / "accounts").glob("*.yml")
    )
    assert segments == sorted(SEGMENTS)  # one example per segment
    text = (tmp_path / "gl-csm.yml").read_text()
    assert sum(1 for line in text.splitlines() if line.lstrip().startswith("#")) >= 15


def test_the_gitignore_covers_every_output(tmp_path: Path) -> None:
    plan_init(tmp_path).apply(None)
    patterns = [
        line.strip()
        for line in (tmp_path / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for output in ("report.md", "dashboard/", "triage-1.json", "triage-12.json", ".gl-csm/"):
        assert any(fnmatch.fnmatch(output, p) for p in patterns), output


def test_the_pipeline_includes_every_component_at_this_version(tmp_path: Path) -> None:
    plan_init(tmp_path, project="cs/tools/gl-csm").apply(None)
    doc = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    included = [i["component"] for i in doc["include"]]
    assert included == [
        f"$CI_SERVER_FQDN/cs/tools/gl-csm/{name}@{__version__}"
        for name in ("triage", "react", "template-review")
    ]
    # Each one a component of this repository's templates/.
    for name in included:
        assert (ROOT / "templates" / f"{name.rsplit('/', 1)[1].split('@')[0]}.yml").is_file()
    assert all(
        i["inputs"]["image"] == f"$CI_REGISTRY/cs/tools/gl-csm:{__version__}"
        for i in doc["include"]
    )


def test_a_file_with_other_content_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "gl-csm.yml").write_text("groups: {}\n")
    with pytest.raises(UsageError) as info:
        plan_init(tmp_path)
    assert "gl-csm.yml already there with other content" in str(info.value)
    assert info.value.exit_code == 2
    assert _tree(tmp_path) == {"gl-csm.yml"}  # nothing written
    assert (tmp_path / "gl-csm.yml").read_text() == "groups: {}\n"


def test_cli_dry_run_writes_nothing_and_a_file_as_dir_is_refused(tmp_path: Path) -> None:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["init", "--dry-run", "team"])
        assert result.exit_code == 0 and "write-file" in result.output
        assert not (tmp_path / "team").exists()
        (tmp_path / "afile").write_text("x")
        result = CliRunner().invoke(main, ["init", "afile"])
        assert result.exit_code == 2 and "init afile: not a directory" in result.output
        result = CliRunner().invoke(main, ["init"])
        assert result.exit_code == 0 and "next: try it on the built-in sandbox" in result.output
        assert "cd " not in result.output  # already here
    finally:
        os.chdir(old)


def test_every_scaffold_file_is_package_data() -> None:
    """An installed gl-csm (a wheel, not a checkout) has what init writes."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "gl_csm.scaffold" in data["packages"]
    patterns = data["package-data"]["gl_csm.scaffold"]
    for source, _ in FILES:
        assert any(
            fnmatch.fnmatchcase(source, p) and source.count("/") == p.count("/") for p in patterns
        ), source
    # One version: the package's, read from gl_csm.__version__.
    assert data["dynamic"] == {"version": {"attr": "gl_csm.__version__"}}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dynamic"] == ["version"] and "version" not in project


def test_this_repositorys_gitignore_covers_every_output_too() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Outputs are written at the top of the checkout: the patterns are anchored there
    # ("/dashboard/"), so the package's own gl_csm/dashboard/ is never ignored.
    for output in ("report.md", "dashboard/", "triage-3.json", ".gl-csm/", "public/"):
        assert any(fnmatch.fnmatch(output, p.lstrip("/")) for p in patterns), output
    inside = "gl_csm/dashboard/templates/overview.html.j2"
    assert not any(
        p.startswith("/") is False and fnmatch.fnmatch("dashboard/", p) for p in patterns
    ), f"an unanchored dashboard/ pattern would ignore {inside}"
