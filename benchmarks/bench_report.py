"""Benchmark the summary issue's size: `gl-csm report` for N accounts and an aged history.

Builds synthetic triage results (the JSON rows `gl-csm triage --format json` prints) with
a realistic at-risk share (about 14 % in triage, 4 % in an open escalation, a third of
those at-risk updates overdue, annual renewals spread over the year, a few accounts
without ARR, a few failures) and a history of ``--days`` days (a change a month per
account, product usage that rises for some accounts and not for others), renders the
report and prints the size of each section and the total against GitLab's cap on an
issue description (1,048,576 UTF-8 bytes: app/models/concerns/issuable.rb).

    python benchmarks/bench_report.py --accounts 5000
    python benchmarks/bench_report.py --accounts 5000 --max-rows 100000   # the guard at work
    python benchmarks/bench_report.py --accounts 5000 --uncut   # every row, as before the limit
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gl_csm.domain.history import HistoryRow, by_account  # noqa: E402
from gl_csm.domain.rules import rules_from_mapping  # noqa: E402
from gl_csm.services.triage import report  # noqa: E402
from gl_csm.services.triage.report import (  # noqa: E402
    DESCRIPTION_CAP,
    ReportInput,
    render_report,
    size_of,
)

TODAY = date(2026, 11, 23)
PRODUCT = ("license_utilization", "user_engagement", "scm", "ci", "devsecops", "cd")
SEVERITIES = ("critical", "high", "medium", "low")


def _health(rng: random.Random) -> str:
    return rng.choices(("green", "yellow", "red", "unknown"), (60, 25, 10, 5))[0]


def _history(rng: random.Random, slug: str, days: int) -> tuple[list[HistoryRow], str, dict]:
    """One account's history over ``days``: a first row with every product measure, then
    a change about once a month; returns the rows, today's health and today's measures."""
    day = TODAY - timedelta(days=days)
    usage = {k: round(rng.uniform(0.1, 0.9), 2) for k in PRODUCT}
    health, score = _health(rng), rng.randint(30, 100)
    rows = [
        HistoryRow(
            day,
            slug,
            health,
            score,
            rng.randint(1, 4),
            "adopting",
            tuple((k, str(v)) for k, v in usage.items()),
        )
    ]
    rising = rng.random() < 0.6
    while True:
        day += timedelta(days=rng.randint(20, 40))
        if day >= TODAY:
            break
        health, score = _health(rng), max(0, min(100, score + rng.randint(-15, 15)))
        step = 0.02 if rising else -0.02
        usage = {k: round(min(1.0, max(0.0, v + step)), 2) for k, v in usage.items()}
        rows.append(
            HistoryRow(
                day, slug, health, score, rows[-1].priority, "adopting",
                tuple((k, str(v)) for k, v in usage.items()),
            )
        )  # fmt: skip
    # Today's health: a few accounts got worse since the last weekly report.
    now = health if rng.random() > 0.05 else rng.choice(("yellow", "red"))
    return rows, now, usage


def synthetic(n: int, days: int = 365, seed: int = 1) -> tuple[ReportInput, dict, date]:
    """Triage results of ``n`` accounts, their history over ``days``, the last report's day."""
    rng = random.Random(seed)
    data, rows = ReportInput(shards=["1/1"]), []
    for i in range(n):
        slug = f"acct-{i:05d}"
        past, health, usage = _history(rng, slug, days)
        rows.extend(past)
        in_triage = health == "red" or (health == "yellow" and rng.random() < 0.1)
        escalated = in_triage and rng.random() < 0.25
        pre_sales = health == "unknown" and rng.random() < 0.5
        data.accounts[slug] = {
            "slug": slug,
            "name": f"Account {i:05d} Holdings",
            "csm": f"csm{i % (n // 60 + 1):03d}",
            "segment": rng.choice(("strategic", "growth", "scale", "commercial")),
            "priority": None if pre_sales else rng.randint(1, 4),
            "health": None if pre_sales else health,
            "score": None if health == "unknown" else float(rng.randint(20, 100)),
            "lifecycle": "pre-sales" if pre_sales else "adopting",
            "arr": None if rng.random() < 0.01 else rng.randint(20, 900) * 1000,
            "renewal_date": (TODAY + timedelta(days=rng.randint(1, 365))).isoformat(),
            "triage": f"https://gitlab.example.com/cs/triage/-/issues/{i}" if in_triage else None,
            "triage_since": (TODAY - timedelta(days=rng.randint(1, 120))).isoformat()
            if in_triage
            else None,
            "at_risk_due": (TODAY + timedelta(days=rng.randint(-20, 40))).isoformat()
            if in_triage
            else None,
            "escalation": f"https://gitlab.example.com/cs/esc/-/issues/{i}" if escalated else None,
            "escalation_severity": rng.choice(SEVERITIES) if escalated else None,
            "tracking": f"https://gitlab.example.com/cs/accounts/-/issues/{i}",
            "measures": [{"name": k, "value": str(v)} for k, v in usage.items()],
        }
        if rng.random() < 0.002:
            data.failures.append(f"{slug}: GitLab answered 502 Bad Gateway on the card update")
    return data, by_account(rows), TODAY - timedelta(days=7)


def sections(text: str) -> list[tuple[str, int]]:
    """The UTF-8 bytes of each "## " section (the head before the first one included)."""
    out: list[tuple[str, int]] = [("(head: totals, priority x health)", 0)]
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            out.append((line[3:].strip(), 0))
        out[-1] = (out[-1][0], out[-1][1] + size_of(line))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365, help="age of the history")
    parser.add_argument("--max-rows", type=int, default=None, help="rules.report.max_rows")
    parser.add_argument("--json", action="store_true", help="one JSON line instead of a table")
    parser.add_argument(
        "--uncut", action="store_true", help="every row and no guard: the size before the limit"
    )
    args = parser.parse_args()
    data, history, previous = synthetic(args.accounts, args.days)
    mapping = {} if args.max_rows is None else {"report": {"max_rows": args.max_rows}}
    if args.uncut:
        mapping = {"report": {"max_rows": 10**9}}
        report.DESCRIPTION_CAP = 10**12
    rules = rules_from_mapping(mapping)
    start = time.perf_counter()
    text = render_report(data, TODAY, rules, history=history, previous=previous)
    seconds = time.perf_counter() - start
    parts = sections(text)
    if args.json:
        print(json.dumps({"accounts": args.accounts, "bytes": size_of(text), "sections": parts}))
        return
    for name, size in parts:
        print(f"{size:>10,}  {name}")
    share = size_of(text) / DESCRIPTION_CAP
    print(f"{size_of(text):>10,}  total bytes, {share:.1%} of GitLab's cap ({DESCRIPTION_CAP:,})")
    print(f"rendered in {seconds:.1f} s; {args.accounts} accounts, history {args.days} days")


if __name__ == "__main__":
    main()
