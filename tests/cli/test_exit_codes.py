"""SPEC 7: commands that need no GitLab never ask for it; exit codes (2 = nothing was
done: bad usage or config, GitLab unreachable or refusing the token); `react --payload -`;
`--dry-run` writes nothing, not even the sandbox file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from gl_csm.cli import main
from tests.cli.test_cli_basics import run
from tests.cli.test_react_cli import person_adds_label

CI_ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "CI": "true"}


@pytest.mark.parametrize(
    "args",
    [
        ("assess",),
        ("assess", "--by-csm"),
        ("templates", "check"),
        ("templates", "preview", "acme-corp"),
    ],
)
def test_commands_that_need_no_gitlab_never_ask_for_a_token(
    workdir: Path, args: tuple[str, ...]
) -> None:
    """In CI, CI_SERVER_URL is always set and the templates-check job has no token."""
    code, out, err = run(workdir, "--today", "2026-11-23", *args, env=CI_ENV)
    assert code == 0, err
    assert "GITLAB_TOKEN" not in err and out


def test_accounts_import_needs_no_token(workdir: Path) -> None:
    csv_file = workdir / "crm.csv"
    csv_file.write_text("Account Name,ARR\nAcme Corp,700000\n")
    code, out, err = run(workdir, "accounts", "import", str(csv_file), env=CI_ENV)
    assert code == 0, err
    assert "GITLAB_TOKEN" not in err and "changed arr" in out


def test_a_command_that_needs_gitlab_asks_for_the_token(workdir: Path) -> None:
    code, out, err = run(workdir, "triage", env=CI_ENV)
    assert code == 2 and "GITLAB_TOKEN is not set" in err and out == ""


def test_unreachable_gitlab_is_exit_2_and_nothing_done(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gl_csm.gitlab import gateway

    monkeypatch.setattr(gateway, "MAX_RETRIES", 0)  # nothing listens on port 9
    code, out, err = run(
        workdir, "--gitlab-url", "http://127.0.0.1:9", "setup", env={"GITLAB_TOKEN": "t"}
    )
    assert code == 2, err
    assert "could not reach GitLab at http://127.0.0.1:9" in err and "nothing was done" in err
    assert "Traceback" not in err and out == ""


@responses.activate
def test_refused_token_is_exit_2(workdir: Path) -> None:
    """doc/api/rest/troubleshooting.md: 401 Unauthorized for a missing or invalid token."""
    responses.get(
        "https://gitlab.example.com/api/v4/user", status=401, json={"message": "401 Unauthorized"}
    )
    code, out, err = run(
        workdir,
        "--gitlab-url",
        "https://gitlab.example.com",
        "triage",
        env={"GITLAB_TOKEN": "glpat-revoked"},
    )
    assert code == 2 and "rejected the token in GITLAB_TOKEN" in err
    assert "glpat-revoked" not in out + err
    assert len(responses.calls) == 1  # nothing else was tried


def test_setup_dry_run_creates_no_sandbox_file(workdir: Path) -> None:
    code, out, _ = run(workdir, "setup", "--dry-run")
    assert code == 0 and "dry run" in out
    assert not (workdir / "sb.json").exists()
    code, _, _ = run(workdir, "setup")
    assert code == 0 and (workdir / "sb.json").exists()


def test_react_reads_the_payload_from_stdin(workdir: Path) -> None:
    assert run(workdir, "--today", "2026-11-23", "triage")[0] == 0
    payload = person_adds_label(workdir, "acme-corp", "triage::needed")
    result = CliRunner().invoke(
        main,
        [
            *("--config", str(workdir / "gl-csm.yml"), "--sandbox", str(workdir / "sb.json")),
            *("--today", "2026-11-23", "react", "--payload", "-", "--format", "json"),
        ],
        input=payload.read_text(),
        env={"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": ""},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["reaction"]["status"] == "acted" and doc["reaction"]["account"] == "acme-corp"


def test_react_promote_before_payment_is_ignored_with_the_reason_exit_0(workdir: Path) -> None:
    """tyrell has no customer_since (not paid): the trigger is ignored, not an error."""
    assert run(workdir, "--today", "2026-11-23", "triage")[0] == 0
    payload = person_adds_label(workdir, "tyrell", "action::promote")
    code, out, err = run(workdir, "--today", "2026-11-23", "react", "--payload", str(payload))
    assert code == 0, err
    assert "ignored: action::promote on the tracking issue of tyrell" in out
    assert "customer_since is not set" in out
