"""Benchmark `gl-csm triage` against the sandbox over HTTP (issue 5; a script, not a test).

Starts the sandbox HTTP server in a thread with 20 ms latency per request (as
`gl-csm sandbox serve --latency-ms 20`), generates N accounts, runs triage twice on the
same day and reports requests per account (reads / writes) on the first run and on the
no-op rerun, the wall time, and the rerun read budget of issue 5:
ceil(N/100) x 3 + open triage issues + open escalation issues, writes 0.

    python benchmarks/bench_triage.py --accounts 1000 5000 [--latency-ms 20]

Pacing is off (``rules: {pacing: {issues_per_minute: 0, notes_per_minute: 0}}``): the
sandbox has no rate limit, and paced writes would only measure the pacer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gl_csm import markers  # noqa: E402
from gl_csm.config import load_settings  # noqa: E402
from gl_csm.gitlab.gateway import Gateway  # noqa: E402
from gl_csm.runtime import pace_limits, seed_sandbox  # noqa: E402
from gl_csm.sandbox import Faults, Sandbox, serve  # noqa: E402
from gl_csm.services.triage.run import plan_triage  # noqa: E402

TODAY = date(2026, 11, 23)
REGIONS = ("NORAM", "EMEA", "APAC", "PUBSEC")
CONFIG = {
    "accounts": "accounts/",
    "groups": {
        "pre_sales": "account-management/pre-sales",
        "post_sales": "account-management/customers",
    },
    "projects": {
        "accounts": "customer-success/accounts",
        "triage": "customer-success/account-triage",
        "escalations": "customer-success/escalations",
    },
    "people": {
        "vp_customer_success": "vp-cs",
        "public_sector_cs_director": "ps-director",
        "regions": {
            r: {
                "csm_manager": f"{r.lower()}-mgr",
                "csm_director": f"{r.lower()}-dir",
                "area_sales_manager": f"{r.lower()}-asm",
                "regional_director": f"{r.lower()}-rd",
            }
            for r in REGIONS
        },
    },
    "rules": {"pacing": {"issues_per_minute": 0, "notes_per_minute": 0}},
}


def generate(directory: Path, n: int, seed: int = 1) -> None:
    """N accounts: mostly healthy, ~8% red (a third of them escalated), ~5% yellow asking
    for triage, renewals over the next two years, customers for 1 month to 4 years."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        roll = rng.random()
        since = TODAY - timedelta(days=rng.randint(30, 1500))
        data = {
            "name": f"Account {i:05d}",
            "segment": rng.choice(("strategic", "growth", "scale", "commercial")),
            "region": rng.choice(REGIONS),
            "public_sector": rng.random() < 0.1,
            "arr": rng.randint(20, 900) * 1000,
            "customer_since": since,
            "onboarding_completed": since + timedelta(days=40),
            "renewal_date": TODAY + timedelta(days=rng.randint(1, 730)),
            "seats": {"licensed": 100, "active": rng.randint(40, 100)},
            "usage": {
                "as_of": TODAY - timedelta(days=10),
                "monthly_active": 0.7,
                "scm": 0.7,
                "ci": 0.5,
                "devsecops": 0.3,
                "cd": 0.3,
            },
            "success_plan": {"objectives": rng.randint(1, 5)},
            "engagement": {
                "last_call": TODAY - timedelta(days=rng.randint(1, 50)),
                "contacts": 3,
                "personas_last_90_days": ["development-lead"],
            },
            "support": {
                "as_of": TODAY - timedelta(days=3),
                "tickets_last_30_days": rng.randint(0, 8),
            },
            "sentiment": {"health": "green", "updated": TODAY - timedelta(days=10)},
            "team": {"csm": f"csm{i % 25:02d}", "sa": f"sa{i % 10}", "ae": f"ae{i % 15}"},
        }
        if roll < 0.08:
            data["sentiment"] = {"health": "red", "updated": TODAY - timedelta(days=5)}
            data["risk"] = {
                "contraction": True,
                "types": ["cost-budget"],
                "reasons": ["loss-of-budget"],
                "impacts": ["seat-churn"],
                "escalation_requested": roll < 0.027,
            }
        elif roll < 0.13:
            data["sentiment"] = {
                "health": "yellow",
                "needs_triage": True,
                "updated": TODAY - timedelta(days=5),
            }
        (directory / f"acct-{i:05d}.yml").write_text(yaml.safe_dump(data, sort_keys=False))


def bench(n: int, latency_ms: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-triage-{n}-"))
    (work / "gl-csm.yml").write_text(yaml.safe_dump(CONFIG))
    generate(work / "accounts", n)
    settings = load_settings(work / "gl-csm.yml", environ={})
    sandbox = Sandbox(clock=lambda: dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC))
    seed_sandbox(sandbox, settings)
    server = serve(sandbox, faults=Faults(latency_ms=latency_ms))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    result: dict = {"accounts": n, "latency_ms": latency_ms}
    try:
        for label in ("first", "rerun"):
            gateway = Gateway.connect(server.url, "bench-token", pace=pace_limits(settings))
            start = time.monotonic()
            run = plan_triage(gateway, settings, TODAY)
            outcome = run.plan.apply(gateway)
            wall = time.monotonic() - start
            stats = gateway.stats
            result[label] = {
                "wall_s": round(wall, 1),
                "reads": stats.reads,
                "writes": stats.writes,
                "changes": len(outcome.changes),
                "failures": len(outcome.failures),
                "reads_per_account": round(stats.reads / n, 3),
                "writes_per_account": round(stats.writes / n, 3),
            }
            gateway.close()
        check = Gateway.connect(server.url, "bench-token")
        triage_open = len(
            markers.index_by_marker(
                check.issues("customer-success/account-triage", state="opened"), "triage"
            )
        )
        escalations_open = len(
            markers.index_by_marker(
                check.issues("customer-success/escalations", state="opened"), "escalation"
            )
        )
        budget = math.ceil(n / 100) * 3 + triage_open + escalations_open
        result["open_triage"] = triage_open
        result["open_escalations"] = escalations_open
        result["rerun_read_budget"] = budget
        result["rerun_within_budget"] = (
            result["rerun"]["reads"] <= budget and result["rerun"]["writes"] == 0
        )
    finally:
        server.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()
    for n in args.accounts:
        print(json.dumps(bench(n, args.latency_ms)), flush=True)


if __name__ == "__main__":
    main()
