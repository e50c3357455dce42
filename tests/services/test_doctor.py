"""`gl-csm doctor` (SPEC 5 Doctor): all ok after setup; every failing check reproduced
against the sandbox (tokens: gl_csm/sandbox/meta.py, doc/api/personal_access_tokens.md;
access: doc/api/members.md "members/all/:user_id"; license: doc/api/license.md)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
import responses

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.meta import set_token
from gl_csm.services.doctor import Report, run_doctor
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY


@pytest.fixture
def ready(gateway: Gateway, settings: Settings) -> Gateway:
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    return gateway


def _failed(report: Report) -> dict[str, str]:
    return {c.name: f"{c.detail} | {c.fix}" for c in report.checks if not c.ok}


def _as_token(sandbox: Sandbox, token: str) -> Gateway:
    gw = Gateway.connect("https://sandbox.gl-csm.invalid", token, transport=SandboxAdapter(sandbox))
    gw.max_retries = 0
    return gw


def test_all_ok_after_setup(ready: Gateway, settings: Settings) -> None:
    before = ready.stats.writes
    report = run_doctor(ready, settings, TODAY)
    assert report.ok, _failed(report)
    assert ready.stats.writes == before  # read-only
    names = [c.name for c in report.checks]
    assert names[:4] == ["gitlab", "token", "token scopes", "token expiry"]
    assert "access groups.post_sales" in names and "private projects.escalations" in names
    assert names[-3:] == ["taxonomy", "users", "edition"]
    assert report.render("text").endswith("all checks passed")


def test_missing_taxonomy_fails_with_the_fix(gateway: Gateway, settings: Settings) -> None:
    failed = _failed(run_doctor(gateway, settings, TODAY))
    assert list(failed) == ["taxonomy"] and "run `gl-csm setup`" in failed["taxonomy"]


def test_unreachable_gitlab(settings: Settings) -> None:
    gw = Gateway.connect("http://127.0.0.1:9", "t")
    gw.max_retries = 0
    report = run_doctor(gw, settings, TODAY)
    failed = _failed(report)
    assert "could not reach GitLab" in failed["gitlab"] and "check the URL" in failed["gitlab"]
    assert failed["users"].startswith("not checked (gitlab failed)")
    assert not report.ok


@responses.activate
def test_a_url_that_is_not_gitlab(settings: Settings) -> None:
    responses.get("https://intranet.example.com/api/v4/version", body="<html>Login</html>")
    gw = Gateway.connect("https://intranet.example.com", "t")
    failed = _failed(run_doctor(gw, settings, TODAY))
    # The gateway refuses a 2xx API answer that is not JSON.
    assert "not the JSON of GitLab's API" in failed["gitlab"]


def test_refused_token(ready: Gateway, sandbox: Sandbox, settings: Settings) -> None:
    set_token(sandbox.store, "revoked", revoked=True)
    report = run_doctor(_as_token(sandbox, "revoked"), settings, TODAY)
    assert report.checks[0].ok and report.checks[0].name == "gitlab"
    failed = _failed(report)
    assert "rejected the token" in failed["token"] and "api scope" in failed["token"]


def test_scopes_and_expiry(ready: Gateway, sandbox: Sandbox, settings: Settings) -> None:
    today = sandbox.store.clock().date()
    set_token(sandbox.store, "ro", scopes=("read_api",), expires_at=today + timedelta(days=3))
    failed = _failed(run_doctor(_as_token(sandbox, "ro"), settings, today))
    assert set(failed) == {"token scopes", "token expiry"}
    assert "read_api" in failed["token scopes"] and "api scope" in failed["token scopes"]
    assert "in 3 day(s)" in failed["token expiry"] and "rotate" in failed["token expiry"]


def test_access_below_owner_and_maintainer(
    ready: Gateway, sandbox: Sandbox, settings: Settings
) -> None:
    store = sandbox.store
    bot = store.user_by_username(sandbox.bot_username)
    assert bot is not None
    bot["is_admin"] = False
    for ns in store.namespaces.values():
        for entry in ns.get("members", []):
            if entry["user_id"] == bot["id"] and ns["path"] in ("account-management", "pre-sales"):
                entry["access_level"] = 30  # Developer
    for entry in store.project("customer-success/escalations")["members"]:
        if entry["user_id"] == bot["id"]:
            entry["access_level"] = 30
    for ns in store.namespaces.values():
        if ns["path"] == "customer-success":
            for entry in ns["members"]:
                if entry["user_id"] == bot["id"]:
                    entry["access_level"] = 30
    failed = _failed(run_doctor(ready, settings, TODAY))
    assert (
        "Developer on account-management/pre-sales, Owner needed"
        in failed["access groups.pre_sales"]
    )
    assert "transfer projects" in failed["access groups.pre_sales"]
    assert "Maintainer needed" in failed["access projects.escalations"]
    assert "access groups.post_sales" not in failed  # its own Owner membership counts
    assert "edition" not in failed  # not an administrator: Free needs no license check


def test_public_internal_project(ready: Gateway, sandbox: Sandbox, settings: Settings) -> None:
    sandbox.store.project("customer-success/account-triage")["visibility"] = "public"
    failed = _failed(run_doctor(ready, settings, TODAY))
    assert "is public" in failed["private projects.triage"]
    assert "private or internal" in failed["private projects.triage"]


def test_registry_user_unknown_to_gitlab(ready: Gateway, settings: Settings) -> None:
    (settings.accounts_dir / "ghosts.yml").write_text(
        "name: Ghosts\nsegment: scale\nregion: EMEA\nteam: {csm: ghost-csm}\n"
    )
    failed = _failed(run_doctor(ready, settings, TODAY))
    assert list(failed) == ["users"] and "ghost-csm" in failed["users"]


def test_edition_differs_from_the_license(ready: Gateway, settings: Settings) -> None:
    premium = dataclasses.replace(settings, gitlab_edition="premium")
    failed = _failed(run_doctor(ready, premium, TODAY))
    assert list(failed) == ["edition"]
    assert "no license (Free), gitlab_edition: premium" in failed["edition"]


def test_cli_exit_codes(workdir: Path) -> None:
    from tests.cli.test_cli_basics import run

    code, out, _ = run(workdir, "doctor")
    assert code == 2 and "FAIL  taxonomy" in out and "1 check(s) failed" in out
    assert run(workdir, "setup")[0] == 0
    code, out, _ = run(workdir, "doctor", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and all(c["ok"] for c in doc["checks"])


def test_dashboard_pages_only_for_project_members(
    ready: Gateway, settings: Settings, sandbox: Sandbox
) -> None:
    """The dashboard holds ARR and health; doctor checks that the ops
    project's Pages are for its members only (``pages_access_level``,
    doc/api/projects.md; doc/user/project/pages/pages_access_control.md)."""
    ops = dataclasses.replace(settings, ops_project="customer-success/accounts")
    report = run_doctor(ready, ops, TODAY)
    assert report.ok, _failed(report)
    assert "dashboard pages" in [c.name for c in report.checks]
    project = sandbox.store.project("customer-success/accounts")
    project["pages_access_level"] = "public"
    failed = _failed(run_doctor(ready, ops, TODAY))
    assert list(failed) == ["dashboard pages"]
    assert "Only project members" in failed["dashboard pages"]


def test_a_moved_internal_project_is_named_with_its_new_path(
    ready: Gateway, sandbox: Sandbox, settings: Settings
) -> None:
    """lib/api/helpers.rb ``find_project!`` (GitLab 16.7+): a write by a moved project's
    old path is refused (405), and the redirect lasts only until a project takes the old
    path (app/models/route.rb): doctor names the new path to put in ``gl-csm.yml``."""
    project = sandbox.store.project("customer-success/escalations")
    sandbox.handle(
        "PUT",
        f"/api/v4/projects/{project['id']}",
        {"PRIVATE-TOKEN": "t", "Content-Type": "application/json"},
        b'{"path": "escalations-2026"}',
    )
    failed = _failed(run_doctor(ready, settings, TODAY))
    assert failed["access projects.escalations"] == (
        "project customer-success/escalations moved to customer-success/escalations-2026: "
        "GitLab refuses writes by the old path and a new project there would take it over"
        " | set 'projects.escalations' to customer-success/escalations-2026"
    )
    assert list(failed) == ["access projects.escalations"]
