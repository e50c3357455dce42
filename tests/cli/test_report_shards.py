"""The daily pipeline survives a bad shard (README "In CI"): `gl-csm report` with one
shard result missing, empty or broken still writes the report, the summary issue and
the dashboard, with a section naming the shard and why, and exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gl_csm.sandbox import Sandbox
from tests.cli.test_triage_cli import run

BROKEN = {
    "missing": None,
    "empty": "",
    "broken": '{"changes": [{"action": "create-issue"',
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_report_with_a_bad_shard_is_written_and_exits_1(workdir: Path, kind: str) -> None:
    files = []
    for i in (1, 2):
        code, out, err = run(workdir, "triage", "--shard", f"{i}/3", "--format", "json")
        assert code == 0, err
        path = workdir / f"triage-{i}.json"
        path.write_text(out)
        files.append(str(path))
    bad = workdir / "triage-3.json"
    if BROKEN[kind] is not None:
        bad.write_text(BROKEN[kind])
        files.append(str(bad))  # the CI glob finds it; a missing one it does not
    report, site = workdir / "report.md", workdir / "dashboard"
    args = ["--output", str(report), "--issue", "--html", str(site), "--shards", "3"]
    code, out, err = run(workdir, "report", "--input", *files, *args)
    assert code == 1, err
    why = {
        "missing": "shard 3/3: no result file",
        "empty": f"shard 3/3 ({bad}): empty: the shard wrote no result",
        "broken": f"shard 3/3 ({bad}): not JSON",
    }[kind]
    assert f"gl-csm: error: {why}" in err
    text = report.read_text()
    section = text.split("## Shards missing from this report\n")[1].split("\n## ")[0]
    assert why in section
    assert "from shards 1/3, 2/3" in text
    assert (site / "index.html").is_file()
    sb = Sandbox.load(workdir / "sb.json")
    project = sb.store.project("customer-success/accounts")
    summary = [
        i
        for _, i in sb.store.iter_issuables(project)
        if "gl-csm:report:portfolio" in (i.get("description") or "")
    ]
    assert len(summary) == 1 and why in summary[0]["description"]
    # Without --issue too: written, named, exit 1.
    again = workdir / "again.md"
    code, out, err = run(
        workdir, "report", "--input", *files, "--shards", "3", "--output", str(again)
    )
    assert code == 1 and why in err and f"written to {again}" in out and why in again.read_text()


def test_report_with_every_shard_good_exits_0(workdir: Path) -> None:
    code, out, err = run(workdir, "triage", "--shard", "1/1", "--format", "json")
    assert code == 0, err
    path = workdir / "triage-1.json"
    path.write_text(out)
    code, out, err = run(
        workdir, "report", "--input", str(path), "--shards", "1", "--output", str(workdir / "r.md")
    )
    assert code == 0, err
    assert json.loads(path.read_text())["shard"] == "1/1"
