"""The benchmark scripts run end to end on a small portfolio (benchmarks/ README
"Benchmarks"): a script that rotted would only be found the day it is needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lines(*args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def test_time_travel_in_process_people_act_and_noop_reruns_write_nothing() -> None:
    rows = _lines(
        "benchmarks/bench_time_travel.py",
        "--accounts", "30", "--weeks", "6", "--step-weeks", "2", "--every", "2",
        "--in-process",
    )  # fmt: skip
    assert [r["week"] for r in rows] == [0, 2, 4, 6]
    assert all(r["noop"]["writes"] == 0 for r in rows)
    # Its seven fixed reads and a page per listing (the budget is for 100 accounts up).
    assert {r["noop"]["reads"] for r in rows} <= {10, 11}
    assert rows[0]["weekly"]["writes"] > 0 and rows[0]["people"] == {}
    # The account teams close the reminders that fell due between runs.
    assert sum(r["people"].get("reminders closed", 0) for r in rows) > 0
    assert all(r["sizes"]["listing_open"] > 0 for r in rows)


def test_triage_prepared_state_reruns_are_no_ops(tmp_path: Path) -> None:
    work = tmp_path / "prepared"
    [first] = _lines("benchmarks/bench_triage.py", "--accounts", "40", "--prepare", str(work))
    assert first["gl_csm"]["writes"] > 0 and first["gl_csm"]["failures"] == 0
    assert first["minimal"]["writes"] > 0
    [result] = _lines(
        "benchmarks/bench_triage.py",
        "--accounts", "40", "--prepared", str(work), "--rounds", "1", "--no-memory",
        "--latency-ms", "0",
    )  # fmt: skip
    # Served on the ports the first runs were made on: the links are the same, and the
    # no-op reruns write nothing on either side.
    assert result["rerun"]["gl_csm"]["writes"] == 0
    assert result["rerun"]["minimal"]["writes"] == 0
    assert "first" not in result
