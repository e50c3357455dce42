"""`templates check --codequality FILE`: the findings as a GitLab Code Quality report
(doc/ci/testing/code_quality.md, "Code Quality report format"), for the merge request
widget through `artifacts:reports:codequality` (ci/templates.yml)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.test_cli_basics import run

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"description", "check_name", "fingerprint", "severity", "location"}


def test_findings_become_code_quality_issues(workdir: Path) -> None:
    folder = workdir / "issue_templates"
    folder.mkdir()
    (folder / "broken.j2").write_text("line one\n{% if x %}\nno endif\n")
    report = workdir / "cq.json"
    code, out, _ = run(workdir, "templates", "check", "--codequality", str(report))
    assert code == 1 and "TemplateSyntaxError" in out
    issues = json.loads(report.read_text())
    assert issues and all(set(i) == KEYS for i in issues)
    broken = [i for i in issues if i["location"]["path"] == "issue_templates/broken.j2"]
    assert len(broken) == 1 and broken[0]["severity"] == "major"
    assert broken[0]["location"]["lines"]["begin"] == 3
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_a_clean_check_writes_an_empty_report(workdir: Path) -> None:
    report = workdir / "cq.json"
    code, _, err = run(workdir, "templates", "check", "--codequality", str(report))
    assert code == 0, err
    assert json.loads(report.read_text()) == []


def test_the_ci_job_publishes_it_to_the_merge_request_widget() -> None:
    job = yaml.safe_load((ROOT / "ci" / "templates.yml").read_text())["templates-check"]
    assert "--codequality gl-code-quality-report.json" in job["script"][0]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"
