"""Across processes against `gl-csm sandbox serve` (SPEC 5, 7):
onboard an enterprise prospect, promote it, onboard a commercial account; each project
lands in the right group with every template part, and --dry-run shows the very
changes apply makes while writing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.cli.test_sandbox_serve import _cli, start_server

pytestmark = pytest.mark.slow
DAY = "2026-11-23"


def _gl(url: str, workdir: Path, *args: str) -> dict:
    run = _cli(
        "--gitlab-url",
        url,
        "--today",
        DAY,
        *args,
        "--format",
        "json",
        "--stats",
        cwd=workdir,
        env={"GITLAB_TOKEN": "any"},
    )
    return json.loads(run.stdout)


def test_enterprise_onboard_promote_then_commercial(workdir: Path) -> None:
    proc, url = start_server(workdir)
    try:
        assert _gl(url, workdir, "setup")["changes"]

        planned = _gl(url, workdir, "onboard", "tyrell", "--dry-run")
        assert planned["stats"]["writes"] == 0
        done = _gl(url, workdir, "onboard", "tyrell")
        assert done["changes"] == planned["changes"]
        assert _gl(url, workdir, "onboard", "tyrell")["stats"]["writes"] == 0

        h = {"PRIVATE-TOKEN": "any"}
        pre = requests.get(
            f"{url}/api/v4/projects/account-management%2Fpre-sales%2Ftyrell", headers=h, timeout=10
        ).json()
        assert pre["visibility"] == "private"

        registry = workdir / "accounts" / "tyrell.yml"
        registry.write_text(registry.read_text() + "customer_since: 2026-11-20\n")
        promoted = _gl(url, workdir, "promote", "tyrell")
        assert promoted["changes"][0]["action"] == "transfer-project"
        assert _gl(url, workdir, "promote", "tyrell")["stats"]["writes"] == 0

        _gl(url, workdir, "onboard", "soylent")
        for slug in ("tyrell", "soylent"):
            report = _gl(url, workdir, "verify", slug)
            assert report["project"] == f"account-management/customers/{slug}"
            assert report["drift"] == [], report["drift"]
            tree = requests.get(
                f"{url}/api/v4/projects/account-management%2Fcustomers%2F{slug}/repository/tree",
                params={"recursive": "true", "per_page": 100},
                headers=h,
                timeout=10,
            ).json()
            paths = {t["path"] for t in tree}
            assert {"README.md", "PLEASE-READ-THESE-INSTRUCTIONS.md"} <= paths
            assert any(p.startswith(".gitlab/issue_templates/") for p in paths)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
