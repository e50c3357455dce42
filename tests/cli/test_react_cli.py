"""`gl-csm react --payload FILE` on the command line (SPEC 5 React, SPEC 7 exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gl_csm import markers
from gl_csm.cli import main
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from tests.cli.test_cli_basics import run as run_cli
from tests.services.react_support import issue_hook

TODAY = "2026-11-23"
ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"


def run(workdir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(workdir, "--today", TODAY, *args)


def person_adds_label(workdir: Path, slug: str, label: str) -> Path:
    """A person adds ``label`` to the account's tracking issue in the sandbox state file;
    returns the Issue Hook GitLab would send, written as TRIGGER_PAYLOAD would be."""
    sb = Sandbox.load(workdir / "sb.json")
    gw = Gateway.for_transport(SandboxAdapter(sb))
    issue = markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")[slug]
    gw.update_issue(ACCOUNTS, issue["iid"], add_labels=label)
    payload = issue_hook(ACCOUNTS, gw.issue(ACCOUNTS, issue["iid"]), added=[label])
    sb.save()
    path = workdir / "payload.json"
    path.write_text(json.dumps(payload))
    return path


def open_triage(workdir: Path) -> set[str]:
    gw = Gateway.for_transport(SandboxAdapter(Sandbox.load(workdir / "sb.json")))
    return set(markers.index_by_marker(gw.issues(TRIAGE, state="opened"), "triage"))


def test_react_json_then_the_same_payload_writes_nothing(workdir: Path) -> None:
    assert run(workdir, "triage")[0] == 0
    before = open_triage(workdir)
    assert "acme-corp" not in before
    payload = person_adds_label(workdir, "acme-corp", "triage::needed")

    code, out, err = run(workdir, "react", "--payload", str(payload), "--format", "json", "--stats")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["reaction"]["status"] == "acted" and doc["reaction"]["account"] == "acme-corp"
    assert doc["reaction"]["trigger"] == "triage::needed"
    assert doc["changes"] and doc["stats"]["writes"] > 0
    assert open_triage(workdir) == before | {"acme-corp"}

    code, out, _ = run(workdir, "react", "--payload", str(payload), "--format", "json", "--stats")
    doc = json.loads(out)
    assert code == 0 and doc["changes"] == [] and doc["stats"]["writes"] == 0


def test_react_text_and_dry_run(workdir: Path) -> None:
    assert run(workdir, "triage")[0] == 0
    payload = person_adds_label(workdir, "acme-corp", "triage::needed")
    code, out, _ = run(workdir, "react", "--payload", str(payload), "--dry-run", "--stats")
    assert code == 0
    assert "Plan (dry run, nothing written)" in out and "writes 0" in out
    assert "trigger: triage::needed added on customer-success/accounts#" in out
    assert "acme-corp" not in open_triage(workdir)


def test_ignored_payload_exits_0_with_the_reason(workdir: Path) -> None:
    path = workdir / "note.json"
    path.write_text(json.dumps({"object_kind": "note", "event_type": "note"}))
    code, out, _ = run(workdir, "react", "--payload", str(path))
    assert code == 0 and "ignored: a 'note' hook, not an Issue Hook" in out


def test_malformed_payload_exits_2_naming_the_file(workdir: Path) -> None:
    path = workdir / "broken.json"
    path.write_text("{not json")
    code, _, err = run(workdir, "react", "--payload", str(path))
    assert code == 2 and f"--payload {path}" in err and "expected a GitLab Issue Hook" in err
    path.write_text(json.dumps({"object_kind": "issue", "project": {}}))
    code, _, err = run(workdir, "react", "--payload", str(path))
    assert code == 2 and "path_with_namespace" in err
    code, _, err = run(workdir, "react", "--payload", str(workdir / "missing.json"))
    assert code == 2 and "cannot read the payload file" in err


def test_serve_refuses_to_start_without_the_secret(workdir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(workdir / "gl-csm.yml"), "serve", "--port", "0"],
        env={"GL_CSM_WEBHOOK_SECRET": "", "GITLAB_URL": "", "CI_SERVER_URL": ""},
    )
    assert result.exit_code == 2 and "GL_CSM_WEBHOOK_SECRET is not set" in result.stderr


def test_ci_react_job_runs_on_trigger_pipelines_with_the_payload_file() -> None:
    """SPEC 5 React: GitLab passes the payload as the file variable TRIGGER_PAYLOAD."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    job = yaml.safe_load((root / "ci" / "react.yml").read_text())["react"]
    assert any('$CI_PIPELINE_SOURCE == "trigger"' in r["if"] for r in job["rules"])
    assert 'react --payload "$TRIGGER_PAYLOAD"' in " ".join(job["script"])
    assert {"local": "ci/react.yml"} in yaml.safe_load((root / ".gitlab-ci.yml").read_text())[
        "include"
    ]
