"""CLI of `gl-csm handoff` and `gl-csm disengage` (SPEC 7 contract: --dry-run,
--format json, --stats, exit codes) with click's CliRunner on the embedded sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.test_cli_basics import run
from tests.conftest import TODAY

DAY = TODAY.isoformat()


def onboarded(workdir: Path) -> None:
    assert run(workdir, "setup")[0] == 0
    code, _, err = run(workdir, "--today", DAY, "onboard", "acme-corp")
    assert code == 0, err


def test_handoff_dry_run_apply_rerun(workdir: Path) -> None:
    onboarded(workdir)
    registry = workdir / "accounts" / "acme-corp.yml"
    text = registry.read_text()
    args = ("--today", DAY, "handoff", "acme-corp", "erin", "--format", "json", "--stats")

    code, out, err = run(workdir, *args, "--dry-run")
    assert code == 0, err
    planned = json.loads(out)
    assert planned["stats"]["writes"] == 0 and registry.read_text() == text
    actions = [c["action"] for c in planned["changes"]]
    # The collaboration project's team parts (one commit), the checklist, then its iid
    # recorded in the tracking card (services/lookup.py).
    assert actions == [
        "add-member",
        "commit",
        "update-issue",
        "create-issue",
        "update-issue",
        "update-registry",
    ]
    assert "[customer-visible]" in planned["changes"][0]["detail"]

    code, out, err = run(workdir, *args)
    assert code == 0, err
    done = json.loads(out)
    assert done["changes"] == planned["changes"]
    assert done["stats"]["writes"] == 5  # the registry edit is a file, not an API call
    assert yaml.safe_load(registry.read_text())["team"]["csm"] == "erin"
    assert [ln for ln in registry.read_text().splitlines() if not ln.startswith("team:")] == [
        ln for ln in text.splitlines() if not ln.startswith("team:")
    ]

    code, out, _ = run(workdir, "--today", DAY, "handoff", "acme-corp", "erin", "--stats")
    assert code == 0
    assert "already its CSM" in out and "nothing to do" in out and "writes 0" in out


def test_handoff_unknown_user_exit_2_nothing_written(workdir: Path) -> None:
    onboarded(workdir)
    registry = workdir / "accounts" / "acme-corp.yml"
    text = registry.read_text()
    code, out, err = run(workdir, "handoff", "acme-corp", "nobody-here", "--format", "json")
    assert code == 2 and out == ""
    assert "nobody-here" in err and "nothing was written" in err and "Traceback" not in err
    assert registry.read_text() == text


def test_handoff_usage(workdir: Path) -> None:
    code, _, err = run(workdir, "handoff", "acme-corp")
    assert code == 2 and "NEW_CSM" in err


def test_disengage_with_reason_then_rerun(workdir: Path) -> None:
    assert run(workdir, "setup")[0] == 0
    args = ("disengage", "globex", "--reason", "Downgraded; /close @all", "--format", "json")
    code, out, err = run(workdir, *args, "--dry-run", "--stats")
    assert code == 0, err
    planned = json.loads(out)
    assert [c["action"] for c in planned["changes"]] == ["create-issue"]
    assert planned["stats"]["writes"] == 0

    code, out, err = run(workdir, *args, "--stats")
    assert code == 0, err
    assert json.loads(out)["stats"]["writes"] == 1

    code, out, err = run(workdir, "disengage", "globex", "--stats")
    assert code == 0, err
    assert "nothing to do" in out and "writes 0" in out
