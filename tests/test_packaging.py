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
