"""The dashboard and the shard results (ARR and health of every account) are kept as
job artifacts or published on Pages only when the project they belong to, the CI job's
own (``CI_PROJECT_PATH``) whatever ``ops_project`` says, is provably private and its
Pages are for members only; artifacts carry ``access: developer``.

GitLab: doc/ci/variables/predefined_variables.md (CI_PROJECT_PATH), doc/ci/yaml/_index.md
(``artifacts:access``), doc/user/project/pages/pages_access_control.md and
``pages_access_level`` in doc/api/projects.md."""

from __future__ import annotations

from pathlib import Path

import yaml

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.services.doctor import run_dashboard_doctor, run_doctor
from tests.cli.test_cli_basics import run
from tests.conftest import ROOT, TODAY

PUBLIC = "ops/cs-ops-public"
PRIVATE = "customer-success/accounts"


def _checks(report: object) -> dict[str, object]:
    return {c.name: c for c in report.checks}  # type: ignore[attr-defined]


def test_the_ci_projects_visibility_is_checked_without_ops_project(
    sandbox: Sandbox, gateway: Gateway, settings: Settings
) -> None:
    assert settings.ops_project is None  # the shipped example sets none
    sandbox.seed(projects=[(PUBLIC, "public")])
    report = run_doctor(gateway, settings, TODAY, {"CI_PROJECT_PATH": PUBLIC})
    check = _checks(report)["dashboard artifacts"]
    assert not check.ok and f"{PUBLIC} is public" in check.detail  # type: ignore[attr-defined]
    ok = run_dashboard_doctor(gateway, settings, {"CI_PROJECT_PATH": PRIVATE})
    assert ok.ok, ok.render("text")


def test_pages_asked_for_but_public_is_refused(
    sandbox: Sandbox, gateway: Gateway, settings: Settings
) -> None:
    sandbox.store.project(PRIVATE)["pages_access_level"] = "public"
    env = {"CI_PROJECT_PATH": PRIVATE, "GL_CSM_PAGES": "members-only"}
    report = run_dashboard_doctor(gateway, settings, env)
    failed = [c.name for c in report.checks if not c.ok]
    assert failed == ["dashboard pages"]


def test_no_project_to_check_is_not_provably_restricted(
    gateway: Gateway, settings: Settings
) -> None:
    report = run_dashboard_doctor(gateway, settings, {})
    assert not report.ok and "CI_PROJECT_PATH is not set" in report.render("text")


def test_the_cli_refuses_with_exit_2(workdir: Path) -> None:
    assert run(workdir, "setup")[0] == 0
    code, out, _ = run(workdir, "doctor", "--dashboard", env={"CI_PROJECT_PATH": PRIVATE})
    assert code == 0, out
    code, out, _ = run(workdir, "doctor", "--dashboard", env={"CI_PROJECT_PATH": "nope/none"})
    assert code == 2 and "not provably restricted" in out


def test_the_jobs_keep_and_publish_only_after_the_check() -> None:
    triage = yaml.safe_load((ROOT / "ci" / "triage.yml").read_text())
    pages = yaml.safe_load((ROOT / "ci" / "pages.yml").read_text())
    for job in (triage["triage"], triage["triage-report"], pages["pages"]):
        assert job["artifacts"]["access"] == "developer"
    report_script = triage["triage-report"]["script"]
    guard = next(line for line in report_script if "doctor --dashboard" in line)
    assert report_script.index(guard) == len(report_script) - 1
    assert "rm -rf report.md dashboard triage-*.json" in guard and "exit 1" in guard
    assert any("doctor --dashboard" in line for line in pages["pages"]["script"])
    first = pages["pages"]["script"][0]
    assert "doctor --dashboard" in first  # before anything is moved into public/
