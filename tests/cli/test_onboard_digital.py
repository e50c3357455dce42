"""Digital accounts get no collaboration project (SPEC 2)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_basics import run
from tests.conftest import TODAY


def test_a_digital_account_is_not_onboarded(workdir: Path) -> None:
    """`gl-csm onboard pied-piper` (digital: true, no CSM) is refused with
    exit 2 and why, and nothing is written (a project would promise a CSM who does not
    exist)."""
    assert run(workdir, "setup")[0] == 0
    code, out, err = run(workdir, "--today", TODAY.isoformat(), "onboard", "pied-piper", "--stats")
    assert code == 2, out
    assert "digital customer is not CSM-assigned" in err and "Nothing was written" in err
    assert "Traceback" not in err
    code, out, _ = run(workdir, "--today", TODAY.isoformat(), "verify", "pied-piper")
    assert code == 2 and "no collaboration project" in _ + out
