"""README "Running against GitLab": while an internal project is public, every command
that writes refuses to run (exit 2, nothing written) — whichever project it writes to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gl_csm.sandbox import Sandbox
from tests.cli.test_triage_cli import run

WRITING = [
    ("setup",),
    ("triage",),
    ("onboard", "tyrell"),
    ("promote", "acme-corp"),
    ("verify", "acme-corp", "--fix"),
    ("handoff", "acme-corp", "erin"),
    ("disengage", "acme-corp"),
    ("will-churn", "acme-corp"),
]


@pytest.mark.parametrize("public", ["customer-success/account-triage", "customer-success/accounts"])
@pytest.mark.parametrize("args", WRITING, ids=lambda a: " ".join(a))
def test_every_writing_command_refuses(workdir: Path, args: tuple[str, ...], public: str) -> None:
    assert run(workdir, "setup")[0] == 0
    assert run(workdir, "onboard", "acme-corp")[0] == 0  # promote and verify need a project
    sb = Sandbox.load(workdir / "sb.json")
    sb.store.project(public)["visibility"] = "public"
    sb.save()
    before = json.loads((workdir / "sb.json").read_text())
    code, out, err = run(workdir, *args)
    assert code == 2, (args, out, err)
    assert f"project {public!r} is public" in err and "nothing was written" in err
    assert json.loads((workdir / "sb.json").read_text()) == before
