"""CLI of onboard / promote / verify / templates (SPEC 7 contract), and a real
cross-process kill of `gl-csm onboard` against `gl-csm sandbox serve --latency-ms`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gl_csm.gitlab.gateway import Gateway
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox
from gl_csm.services.collaboration.onboard import plan_onboard
from tests.cli.test_cli_basics import run
from tests.cli.test_sandbox_serve import start_server
from tests.conftest import TODAY
from tests.services.onboarding_support import NEW_PROSPECT, add_account, new_gateway, snapshot

DAY = TODAY.isoformat()


def test_onboard_dry_run_then_apply_then_rerun(workdir: Path) -> None:
    assert run(workdir, "setup")[0] == 0
    code, out, err = run(
        workdir, "--today", DAY, "onboard", "tyrell", "--dry-run", "--format", "json", "--stats"
    )
    assert code == 0, err
    planned = json.loads(out)
    assert planned["stats"]["writes"] == 0
    assert planned["changes"][0]["action"] == "create-project"
    assert "[customer-visible]" in planned["changes"][0]["detail"]

    code, out, err = run(
        workdir, "--today", DAY, "onboard", "tyrell", "--format", "json", "--stats"
    )
    assert code == 0, err
    done = json.loads(out)
    assert done["changes"] == planned["changes"]
    assert done["stats"]["writes"] == len(done["changes"])
    # README "Read budget": project at both group paths (2), the three internal projects
    # (none may be public: every writing command checks them), group, 4 team members,
    # the tracking issue's narrowed listing and the one page of the accounts project that
    # proves it absent (never GitLab's search).
    assert done["stats"]["reads"] <= 12

    code, out, _ = run(workdir, "--today", DAY, "onboard", "tyrell", "--stats")
    assert code == 0 and "Nothing to change." in out and "writes 0" in out


def test_unknown_user_exit_2_naming_account_and_user(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users that do not exist are a clear error before anything is written (exit 2).
    The embedded sandbox seeds every registry username, as `sandbox serve` does: leave
    this one out, as a real GitLab would not have it."""
    import gl_csm.runtime

    real = gl_csm.runtime.registry_usernames
    monkeypatch.setattr(gl_csm.runtime, "registry_usernames", lambda d: real(d) - {"ghost-user"})
    add_account(workdir, "initrode", NEW_PROSPECT.replace("pse: dave", "pse: ghost-user"))
    code, out, err = run(workdir, "--today", DAY, "onboard", "initrode", "--stats")
    assert code == 2
    assert "initrode" in err and "ghost-user" in err and "team.pse" in err
    assert "Traceback" not in err
    sb = Sandbox.load(workdir / "sb.json")
    assert sb.store.find_project("account-management/pre-sales/initrode") is None


def test_unknown_user_against_a_gitlab_without_that_user(workdir: Path) -> None:
    from gl_csm.config import load_settings

    add_account(workdir, "initrode", NEW_PROSPECT.replace("pse: dave", "pse: ghost-user"))
    settings = load_settings(workdir / "gl-csm.yml", environ={})
    sb = Sandbox()
    seed_sandbox(sb, settings)
    # Seeding made ghost-user (it is in the registry); a real GitLab would not have it.
    sb.store.users = {k: u for k, u in sb.store.users.items() if u["username"] != "ghost-user"}
    gw = new_gateway(sb)
    from gl_csm.errors import UsageError

    with pytest.raises(UsageError) as info:
        plan_onboard(gw, settings, "initrode", TODAY)
    assert "initrode" in str(info.value) and "ghost-user" in str(info.value)
    assert gw.stats.writes == 0


def test_promote_before_payment_exit_2(workdir: Path) -> None:
    run(workdir, "--today", DAY, "onboard", "tyrell")
    code, _, err = run(workdir, "--today", DAY, "promote", "tyrell")
    assert code == 2 and "customer_since is not set" in err and "Traceback" not in err


def test_onboard_promote_verify_flow(workdir: Path) -> None:
    assert run(workdir, "setup")[0] == 0
    registry = add_account(workdir, "initrode", NEW_PROSPECT)
    assert run(workdir, "--today", DAY, "onboard", "initrode")[0] == 0
    registry.write_text(registry.read_text() + "customer_since: 2026-11-20\n")
    code, out, err = run(
        workdir, "--today", DAY, "promote", "initrode", "--format", "json", "--stats"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["changes"][0]["action"] == "transfer-project"
    code, out, _ = run(
        workdir, "--today", DAY, "promote", "initrode", "--format", "json", "--stats"
    )
    doc = json.loads(out)
    assert code == 0 and doc["changes"] == [] and doc["stats"]["writes"] == 0

    code, out, err = run(workdir, "--today", DAY, "verify", "initrode", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["project"] == "account-management/customers/initrode"
    assert doc["phase"] == "post-sales" and doc["drift"] == []


def test_templates_check_cli(workdir: Path) -> None:
    code, out, _ = run(workdir, "templates", "check", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["problems"] == [] and doc["templates"] == ["commercial", "enterprise"]
    code, out, _ = run(workdir, "--today", DAY, "templates", "preview", "wayne-enterprises")
    assert code == 0 and "## Issue: Onboarding checklist" in out


# ---------------------------------------------------------------- cross-process kill


def _gl_csm(workdir: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITLAB_URL", "CI_SERVER_URL")}
    env["GITLAB_TOKEN"] = "any"
    return subprocess.Popen(
        [sys.executable, "-m", "gl_csm", "--gitlab-url", url, "--today", DAY, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_killed_onboard_process_rerun_equals_uninterrupted_run(workdir: Path) -> None:
    """Kill `gl-csm onboard` (SIGKILL) part-way, twice, against `gl-csm
    sandbox serve --latency-ms`, run it again: the state equals an uninterrupted run
    (no duplicate issue, milestone or commit) and so does the registry file."""
    from gl_csm.config import load_settings

    registry = add_account(workdir, "initrode", NEW_PROSPECT)
    settings = load_settings(workdir / "gl-csm.yml", environ={})
    # The uninterrupted reference, in-process.
    ref_sb = Sandbox()
    seed_sandbox(ref_sb, settings)
    ref = new_gateway(ref_sb)
    assert plan_onboard(ref, settings, "initrode", TODAY).apply(ref).exit_code == 0
    reference = snapshot(ref, "account-management/pre-sales/initrode", "initrode")
    reference_registry = registry.read_text()
    registry.write_text(NEW_PROSPECT)

    server, url = start_server(workdir, "--latency-ms", "100")
    watcher = Gateway.connect(url, "t")
    path = "account-management/pre-sales/initrode"

    def project_exists() -> bool:
        return watcher.project(path) is not None

    def has_issue() -> bool:
        project = watcher.project(path)
        return project is not None and bool(watcher.issues(project["id"]))

    try:
        # Kill once right after the project was made, once in the middle of the issues.
        for progressed in (project_exists, has_issue):
            proc = _gl_csm(workdir, url, "onboard", "initrode")
            deadline = time.monotonic() + 60
            while not progressed() and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.kill()
            assert proc.wait(timeout=10) != 0, "killed before it finished"
        final = _gl_csm(workdir, url, "onboard", "initrode", "--stats")
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err
        gw = Gateway.connect(url, "t")
        assert snapshot(gw, "account-management/pre-sales/initrode", "initrode") == reference
        assert registry.read_text() == reference_registry
        again = _gl_csm(workdir, url, "onboard", "initrode", "--stats")
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0 and "writes 0" in out, out + err
    finally:
        server.terminate()
        server.wait(timeout=10)
