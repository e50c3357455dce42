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


COMPONENTS = sorted((ROOT / "templates").glob("*.yml"))


def _validate(doc: object, where: Path, tmp_path: Path) -> None:
    path = tmp_path / f"{where.stem}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = subprocess.run(
        [*_checker(), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{where}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", COMPONENTS, ids=[p.name for p in COMPONENTS])
def test_component_matches_gitlab_schema(path: Path, tmp_path: Path) -> None:
    """Both documents of a CI/CD component: the `spec: inputs:` header, and the jobs
    with the inputs' defaults filled in (GitLab validates the interpolated result)."""
    from tests.ci.components import interpolate, split

    header, _ = split(path)
    _validate(header, path, tmp_path)
    _validate(interpolate(path), path, tmp_path)


def test_components_install_this_version_and_say_what_they_are() -> None:
    from gl_csm import __version__
    from tests.ci.components import split

    assert {p.stem for p in COMPONENTS} == {"triage", "react", "template-review", "dashboard"}
    for path in COMPONENTS:
        spec = split(path)[0]["spec"]
        assert spec.get("description"), path
        assert spec["inputs"]["package"]["default"] == f"gl-csm=={__version__}", path
        assert "image" in spec["inputs"], path


def _sources(rules: list[dict]) -> set[str]:
    import re

    found: set[str] = set()
    for rule in rules:
        found.update(re.findall(r'\$CI_PIPELINE_SOURCE == "([a-z_]+)"', rule["if"]))
    return found


def test_tests_run_only_in_branch_and_merge_request_pipelines() -> None:
    """A scheduled triage or a webhook trigger never runs the test suite."""
    test = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())["test"]
    assert _sources(test["rules"]) == {"push", "merge_request_event"}
    assert all("CI_PIPELINE_SOURCE" in r["if"] for r in test["rules"])  # no bare branch rule


def _job_rules(doc: dict, name: str) -> list[dict]:
    job = doc[name]
    if "rules" in job:
        return job["rules"]
    return doc[job["extends"]]["rules"]


@pytest.mark.parametrize(
    ("file", "jobs", "sources"),
    [
        ("ci/triage.yml", ["triage", "triage-report"], {"schedule", "web"}),
        ("ci/react.yml", ["react"], {"trigger"}),
        ("ci/templates.yml", ["templates-check", "templates-preview"], {"merge_request_event"}),
        ("ci/pages.yml", ["pages"], {"schedule", "web"}),
        ("ci/release.yml", ["publish-package", "publish-components"], {"push"}),
    ],
)
def test_every_job_runs_only_in_its_own_pipeline_sources(
    file: str, jobs: list[str], sources: set[str]
) -> None:
    doc = yaml.safe_load((ROOT / file).read_text())
    for name in jobs:
        rules = _job_rules(doc, name)
        assert _sources(rules) == sources, name
        assert all("CI_PIPELINE_SOURCE" in r["if"] for r in rules), name


@pytest.mark.parametrize(
    ("component", "jobs", "sources"),
    [
        ("triage", ["gl-csm-triage", "gl-csm-report"], {"schedule", "web"}),
        ("react", ["gl-csm-react"], {"trigger"}),
        ("template-review", ["gl-csm-templates-check"], {"merge_request_event"}),
        ("dashboard", ["pages"], {"schedule", "web"}),
    ],
)
def test_every_component_job_runs_only_in_its_own_pipeline_sources(
    component: str, jobs: list[str], sources: set[str]
) -> None:
    from tests.ci.components import interpolate

    doc = interpolate(ROOT / "templates" / f"{component}.yml")
    for name in jobs:
        assert _sources(_job_rules(doc, name)) == sources, name


def test_the_image_is_built_from_the_wheel_the_pipeline_built() -> None:
    """ci/release.yml hands the Dockerfile its wheel (ARG WHEEL) and tags the image with
    the release version, the tag `gl-csm init` writes into a team's pipeline."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG WHEEL" in dockerfile and "pip install --no-cache-dir /tmp/*.whl" in dockerfile
    assert "ENTRYPOINT" not in dockerfile.split("# No ENTRYPOINT")[0]  # CI runs a shell
    release = yaml.safe_load((ROOT / "ci" / "release.yml").read_text())
    build = " ".join(release["build-image"]["script"])
    assert '--build-arg WHEEL="$(ls dist/*.whl)"' in build
    assert release["build-image"]["needs"] == [{"job": "build-wheel", "artifacts": True}]
    assert '"$CI_REGISTRY_IMAGE:$TAG"' in build and "${CI_COMMIT_TAG:-" in build
    wheel = " ".join(release["build-wheel"]["script"])
    assert "python -m build --wheel" in wheel and "is not the version" in wheel
