"""`gl-csm triage` and `gl-csm report` on the command line (SPEC 7)."""

from __future__ import annotations

import json
from pathlib import Path

from gl_csm.sandbox import Sandbox
from tests.cli.test_cli_basics import run as run_cli

TODAY = "2026-11-23"


def run(workdir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(workdir, "--today", TODAY, *args)


def test_triage_json_then_a_rerun_writes_nothing(workdir: Path) -> None:
    code, out, err = run(workdir, "triage", "--format", "json", "--stats")
    assert code == 0, err
    doc = json.loads(out)
    # A change may write twice (the triage issue creates its milestone first).
    assert doc["stats"]["writes"] >= len(doc["changes"]) > 0
    slugs = {row["slug"] for row in doc["accounts"]}
    assert {"acme-corp", "initech", "tyrell"} <= slugs
    initech = next(r for r in doc["accounts"] if r["slug"] == "initech")
    assert initech["health"] == "red" and initech["triage"].startswith("http")

    code, out, _ = run(workdir, "triage", "--format", "json", "--stats")
    doc = json.loads(out)
    assert code == 0 and doc["changes"] == [] and doc["stats"]["writes"] == 0


def test_dry_run_writes_nothing(workdir: Path) -> None:
    code, out, _ = run(workdir, "triage", "--dry-run", "--stats")
    assert code == 0
    assert "Plan (dry run, nothing written)" in out and "writes 0" in out


def test_shards_then_one_report_and_one_summary_issue(workdir: Path) -> None:
    files = []
    seen: list[str] = []
    for i in (1, 2, 3):
        code, out, err = run(workdir, "triage", "--shard", f"{i}/3", "--format", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["shard"] == f"{i}/3"
        seen += [r["slug"] for r in doc["accounts"]]
        path = workdir / f"triage-{i}.json"
        path.write_text(out)
        files.append(str(path))
    assert len(seen) == len(set(seen)) == len(list((workdir / "accounts").glob("*.yml")))

    report = workdir / "report.md"
    code, out, err = run(
        workdir,
        "report",
        "--input",
        files[0],
        *files[1:],
        "--output",
        str(report),
        "--issue",
        "--stats",
    )
    assert code == 0, err
    text = report.read_text()
    for heading in (
        "Health and priority per CSM",
        "Book balance",
        "Renewals in the next 6 months",
        "Overdue at-risk updates",
        "Open escalations",
    ):
        assert heading in text
    assert "Initech" in text
    code, out, _ = run(
        workdir, "report", "--input", *files, "--output", str(report), "--issue", "--stats"
    )
    assert code == 0 and "writes 0" in out
    sb = Sandbox.load(workdir / "sb.json")
    project = sb.store.project("customer-success/accounts")
    reports = [
        i
        for _, i in sb.store.iter_issuables(project)
        if "gl-csm:report:portfolio" in (i.get("description") or "")
    ]
    assert len(reports) == 1


def test_bad_shard_is_a_usage_error(workdir: Path) -> None:
    code, _, err = run(workdir, "triage", "--shard", "4/3")
    assert code == 2 and "--shard" in err


def test_public_internal_project_refused_with_exit_2(workdir: Path) -> None:
    run(workdir, "setup")  # creates the sandbox state (a dry run writes no file)
    sb = Sandbox.load(workdir / "sb.json")
    sb.store.project("customer-success/escalations")["visibility"] = "public"
    sb.save()
    code, out, err = run(workdir, "triage", "--stats")
    assert code == 2 and "public" in err


def test_a_bad_registry_file_exits_1_and_the_rest_is_done(workdir: Path) -> None:
    (workdir / "accounts" / "zzz-broken.yml").write_text("name: Broken\nsegment: nope\n")
    code, out, err = run(workdir, "triage", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [e["account"] for e in doc["errors"]] == ["zzz-broken"]
    assert len([c for c in doc["changes"] if "tracking issue" in c["target"]]) >= 12


def test_report_html_writes_the_dashboard(workdir: Path) -> None:
    """`gl-csm report --html DIR` after a triage run (embedded sandbox):
    the overview, a page per CSM and per account, the history read from GitLab."""
    code, out, err = run(workdir, "triage", "--format", "json")
    assert code == 0, err
    results = workdir / "triage.json"
    results.write_text(out)
    site = workdir / "site"
    code, out, err = run(
        workdir,
        "report",
        "--input",
        str(results),
        "--output",
        str(workdir / "r.md"),
        "--html",
        str(site),
    )
    assert code == 0, err
    assert "dashboard:" in err and (site / "index.html").is_file()
    accounts = json.loads(results.read_text())["accounts"]
    assert len(list((site / "account").glob("*.html"))) == len(accounts)
    initech = (site / "account" / "initech.html").read_text()
    assert "Health red since 2026-11-23" in initech and "<svg" in initech
    # A dry run writes no dashboard.
    code, _, _ = run(
        workdir, "report", "--input", str(results), "--html", str(workdir / "dry"), "--dry-run"
    )
    assert code == 0 and not (workdir / "dry").exists()
