"""An installed gl-csm (not only a checkout) must carry its templates (pyproject
`package-dir` maps the top-level folders into the package; `package-data` picks files)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


@pytest.mark.parametrize("folder", ["project_templates", "issue_templates"])
def test_every_template_file_is_package_data(folder: str) -> None:
    package = f"gl_csm.{folder}"
    assert SETUPTOOLS["package-dir"][package] == folder
    patterns = SETUPTOOLS["package-data"][package]
    files = [
        p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()
    ]
    missed = [
        f
        for f in files
        if not any(
            fnmatch.fnmatchcase(f, pat) and f.count("/") == pat.count("/") for pat in patterns
        )
    ]
    assert files and missed == []


def test_every_package_of_the_tree_is_in_the_wheel() -> None:
    """`packages` is an explicit list: a new sub-package left out of it installs as a
    ModuleNotFoundError for every user of the wheel (the checkout still works)."""
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gl_csm").rglob("__init__.py")
    }
    assert found <= set(SETUPTOOLS["packages"]), sorted(found - set(SETUPTOOLS["packages"]))


def test_every_dashboard_and_scaffold_file_is_package_data() -> None:
    """Templates of the dashboard and the scaffold are package data too."""
    for package, folder in (("gl_csm.dashboard", "dashboard"), ("gl_csm.scaffold", "scaffold")):
        base = ROOT / "gl_csm" / folder
        patterns = SETUPTOOLS["package-data"].get(package, [])
        files = [
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
        ]
        missed = [f for f in files if not any(fnmatch.fnmatchcase(f, pat) for pat in patterns)]
        assert missed == [], (package, missed)
