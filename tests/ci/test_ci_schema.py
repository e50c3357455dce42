"""`.gitlab-ci.yml` and `ci/*.yml` against GitLab's CI schema (ARCHITECTURE "Tests")."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob(".gitlab-ci.yml"), *(ROOT / "ci").glob("*.yml")])


def _checker() -> list[str]:
    exe = shutil.which("check-jsonschema") or str(
        Path(sys.executable).with_name("check-jsonschema")
    )
    if not Path(exe).exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return [exe]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_ci_file_matches_gitlab_schema(path: Path) -> None:
    result = subprocess.run(
        [*_checker(), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_triage_job_is_sharded_and_the_report_collects_the_shards() -> None:
    doc = yaml.safe_load((ROOT / "ci" / "triage.yml").read_text())
    triage = doc["triage"]
    assert isinstance(triage["parallel"], int) and 1 <= triage["parallel"] <= 200
    script = " ".join(triage["script"])
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in script and "--format json" in script
    assert "triage-*.json" in triage["artifacts"]["paths"]
    report = doc["triage-report"]
    assert report["needs"] == [{"job": "triage", "artifacts": True}]
    assert "report --input triage-*.json" in " ".join(report["script"])
    assert any("schedule" in rule["if"] for rule in doc[".gl-csm-triage-base"]["rules"])
