"""Benchmark `gl-csm report --html`: the static dashboard for N accounts.

Builds the dashboard from synthetic triage results (the JSON rows `gl-csm triage
--format json` prints) and a synthetic history (a few changes per account over 90
days), and reports the build time and the files written.

    python benchmarks/bench_dashboard.py --accounts 5000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gl_csm.dashboard.build import build_dashboard  # noqa: E402
from gl_csm.domain.history import HistoryRow, by_account  # noqa: E402
from gl_csm.domain.rules import DEFAULT_RULES  # noqa: E402

TODAY = date(2026, 11, 23)
HEALTHS = ("green", "green", "green", "yellow", "red")


def synthetic(n: int, seed: int = 1) -> tuple[dict, dict]:
    rng = random.Random(seed)
    accounts, rows = {}, []
    for i in range(n):
        slug = f"acct-{i:05d}"
        day = TODAY - timedelta(days=90)
        score = rng.randint(30, 100)
        for _ in range(rng.randint(1, 4)):
            rows.append(
                HistoryRow(day, slug, rng.choice(HEALTHS), score, rng.randint(1, 3), "adopting")
            )
            day += timedelta(days=rng.randint(5, 25))
            score = max(0, min(100, score + rng.randint(-15, 15)))
        last = rows[-1]
        accounts[slug] = {
            "slug": slug,
            "name": f"Account {i:05d}",
            # 25 CSMs, and the same names capitalised on every 50th account: a registry
            # with both spellings gets two pages (dashboard/build.page_names).
            "csm": f"csm{i % 25:02d}" if i % 50 else f"CSM{i % 25:02d}",
            "segment": rng.choice(("strategic", "growth", "scale", "commercial")),
            "priority": last.priority,
            "health": last.health,
            "score": float(last.score),
            "lifecycle": "adopting",
            "arr": rng.randint(20, 900) * 1000,
            "renewal_date": (TODAY + timedelta(days=rng.randint(1, 700))).isoformat(),
            "triage": f"https://gitlab.example.com/t/-/issues/{i}"
            if last.health == "red"
            else None,
            "triage_since": (TODAY - timedelta(days=10)).isoformat()
            if last.health == "red"
            else None,
            "at_risk_due": (TODAY - timedelta(days=rng.randint(-10, 10))).isoformat()
            if last.health == "red"
            else None,
            "escalation": None,
            "tracking": f"https://gitlab.example.com/a/-/issues/{i}",
            "measures": [
                {"name": "license_utilization", "color": "green", "value": "80"},
                {"name": "ci", "color": "yellow", "value": "0.15"},
                {"name": "persona_engagement", "color": "red", "value": "[]"},
            ],
        }
    return accounts, by_account(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[5000])
    args = parser.parse_args()
    for n in args.accounts:
        accounts, history = synthetic(n)
        out = Path(tempfile.mkdtemp(prefix=f"bench-dashboard-{n}-")) / "site"
        start = time.perf_counter()
        files = build_dashboard(out, accounts, history, TODAY, DEFAULT_RULES)
        seconds = time.perf_counter() - start
        size = sum(f.stat().st_size for f in files)
        print(
            json.dumps(
                {
                    "accounts": n,
                    "files": len(files),
                    "megabytes": round(size / 1e6, 1),
                    "seconds": round(seconds, 2),
                    "out": str(out),
                }
            )
        )


if __name__ == "__main__":
    main()
