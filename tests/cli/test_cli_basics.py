"""CLI contract (SPEC 7): global options, exit codes, output formats, no stack traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gl_csm.cli import main


def run(workdir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    base = {"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": ""}
    result = runner.invoke(
        main,
        ["--config", str(workdir / "gl-csm.yml"), "--sandbox", str(workdir / "sb.json"), *args],
        env={**base, **(env or {})},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_setup_json_stats_and_rerun_writes_nothing(workdir: Path) -> None:
    code, out, err = run(workdir, "setup", "--format", "json", "--stats")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["changes"] and set(doc["changes"][0]) == {"action", "target", "detail"}
    assert doc["stats"]["writes"] == len(doc["changes"])
    assert "built-in sandbox" in err

    code, out, _ = run(workdir, "setup", "--format", "json", "--stats")
    doc = json.loads(out)
    assert code == 0 and doc["changes"] == [] and doc["stats"]["writes"] == 0


def test_setup_dry_run_writes_nothing(workdir: Path) -> None:
    code, out, _ = run(workdir, "setup", "--dry-run", "--stats")
    assert code == 0
    assert "dry run" in out and "writes 0" in out
    code, out, _ = run(workdir, "setup", "--dry-run", "--format", "json")
    assert json.loads(out)["changes"], "still planned: the dry run wrote nothing"


def test_bad_config_exit_2_one_line(workdir: Path) -> None:
    (workdir / "gl-csm.yml").write_text("groups: {pre_sales: a}\nbogus: 1\n")
    code, out, err = run(workdir, "setup")
    assert code == 2
    assert "unknown key 'bogus'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_token_exit_2(workdir: Path) -> None:
    code, _, err = run(workdir, "--gitlab-url", "https://gitlab.example.com", "setup")
    assert code == 2
    assert "GITLAB_TOKEN is not set" in err and "Traceback" not in err


def test_token_is_never_printed(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gl_csm.gitlab import gateway

    # Nothing listens on port 9: keep python-gitlab's back-off short for the test.
    monkeypatch.setattr(gateway, "MAX_RETRIES", 1)
    code, out, err = run(
        workdir,
        "--gitlab-url",
        "http://127.0.0.1:9",
        "setup",
        env={"GITLAB_TOKEN": "glpat-very-secret"},
    )
    assert code != 0  # nothing listens on port 9
    assert "glpat-very-secret" not in out + err
    assert "Traceback" not in err


def test_bad_today_is_a_usage_error(workdir: Path) -> None:
    code, _, err = run(workdir, "--today", "2026-13-01", "assess")
    assert code == 2 and "YYYY-MM-DD" in err


def test_assess_without_config_reads_accounts_dir(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC 7: with no config file at all, assess reads accounts/ in the current directory."""
    (workdir / "gl-csm.yml").unlink()
    monkeypatch.chdir(workdir)
    result = CliRunner().invoke(
        main, ["--today", "2026-11-23", "assess", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {"slug", "priority", "health", "needs_triage", "lifecycle"} <= set(rows[0])


def test_bad_registry_file_exit_1_others_assessed(workdir: Path) -> None:
    (workdir / "accounts" / "broken.yml").write_text("name: Broken\nsegment: enterprise\n")
    code, out, err = run(workdir, "--today", "2026-11-23", "assess", "--format", "json")
    assert code == 1
    assert "broken.yml" in err and "segment" in err
    assert len(json.loads(out)) >= 4


def test_unknown_account_is_exit_2(workdir: Path) -> None:
    code, _, err = run(workdir, "assess", "no-such-account")
    assert code == 2 and "no-such-account" in err


def test_corrupt_sandbox_file_is_a_clear_error(workdir: Path) -> None:
    (workdir / "sb.json").write_text("{not json")
    code, _, err = run(workdir, "setup")
    assert code == 2
    assert "sb.json" in err and "Traceback" not in err


def test_embedded_sandbox_stamps_the_today_date(workdir: Path) -> None:
    """Date rules compare note dates with --today: the sandbox's clock follows it."""
    code, _, err = run(workdir, "--today", "2027-03-01", "onboard", "acme-corp")
    assert code == 0, err
    state = json.loads((workdir / "sb.json").read_text())
    assert "2027-03-01" in json.dumps(state) and "created_at" in json.dumps(state)
