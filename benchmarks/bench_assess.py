"""Benchmark: `run_assess` against bare YAML loading of the same registry.

Generates N varied account files in a temporary directory, then times
(a) reading and parsing every file with `yaml.load(..., CSafeLoader)` alone, and
(b) `run_assess` over the directory (read, parse, validate, assess), and
(c) `run_assess` with the registry cache warm (what `gl-csm assess` and `triage` do
when no file changed since the last run: read, hash, rebuild from the cache, assess).
The goal is (b) <= 1.5 x (a): validation and assessment must cost less than half
of what libyaml already costs.

(a) and (b) run in interleaved rounds (a b, b a, a b, ...) so that a noisy moment of
the machine hits both sides; the report gives the median of each side and the median
of the per-round ratios (best-of-N per side swung 1.16-1.72).

    python benchmarks/bench_assess.py [--accounts 10000] [--rounds 7] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from gl_csm.domain.rules import Rules
from gl_csm.services.assess import run_assess

TODAY = date(2026, 11, 23)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

SEGMENTS = ("strategic", "growth", "scale", "commercial")
REGIONS = ("NORAM", "EMEA", "APAC", "PUBSEC")
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
STAGES = ("plan", "create", "verify", "package", "secure", "release", "monitor")


def _day(rng: random.Random, back: int, ahead: int = 0) -> date:
    return TODAY + timedelta(days=rng.randint(-back, ahead))


def make_account(rng: random.Random, i: int) -> dict[str, object]:
    """One plausible account; sections are left out at random like real registries."""
    segment = rng.choice(SEGMENTS)
    licensed = rng.randint(20, 5000)
    acct: dict[str, object] = {
        "name": f"Customer {i}",
        "segment": segment,
        "region": rng.choice(REGIONS),
        "arr": rng.randint(5, 900) * 1000,
        "plan": rng.choice(("premium", "ultimate")),
        "deployment": rng.choice(("self-managed", "saas", "dedicated")),
        "seats": {"licensed": licensed, "active": rng.randint(0, licensed)},
        "renewal_date": _day(rng, 30, 700),
        "team": {"csm": rng.choice(PEOPLE), "sa": rng.choice(PEOPLE), "ae": rng.choice(PEOPLE)},
    }
    if rng.random() < 0.9:
        acct["customer_since"] = _day(rng, 1500, 0)
    if rng.random() < 0.7:
        acct["onboarding_completed"] = _day(rng, 300)
    if rng.random() < 0.85:
        acct["usage"] = {
            "as_of": _day(rng, 90),
            "monthly_active": round(rng.random(), 2),
            "scm": round(rng.random(), 2),
            "ci": round(rng.random() * 0.6, 2),
            "devsecops": round(rng.random() * 0.4, 2),
            "cd": round(rng.random() * 0.4, 2),
        }
    if acct["deployment"] == "self-managed":
        acct["version"] = {
            "current": f"{rng.randint(14, 17)}.{rng.randint(0, 11)}",
            "latest": "17.6",
        }
    if rng.random() < 0.5:
        acct["opportunities"] = [
            {"type": rng.choice(("uptier", "growth")), "close_date": _day(rng, 60, 400)}
            for _ in range(rng.randint(1, 2))
        ]
    acct["success_plan"] = {
        "objectives": rng.randint(0, 5),
        "critical_initiative": rng.random() < 0.1,
        "active_use_case_planning": rng.random() < 0.2,
    }
    acct["stages_adopted"] = rng.sample(STAGES, rng.randint(0, 5))
    if rng.random() < 0.9:
        acct["engagement"] = {
            "last_call": _day(rng, 150),
            "contacts": rng.randint(1, 8),
            "personas_last_90_days": rng.sample(
                ["development-lead", "security-lead"], rng.randint(0, 2)
            ),
        }
    if rng.random() < 0.8:
        acct["support"] = {
            "as_of": _day(rng, 45),
            "tickets_last_30_days": rng.randint(0, 25),
            "emergency_open": rng.random() < 0.03,
        }
    acct["nps"] = rng.randint(0, 10)
    acct["sentiment"] = {
        "health": rng.choice(("green", "green", "yellow", "red")),
        "needs_triage": rng.random() < 0.1,
        "updated": _day(rng, 150),
    }
    if rng.random() < 0.15:
        acct["risk"] = {
            "contraction": True,
            "types": ["cost-budget"],
            "reasons": ["loss-of-budget"],
            "impacts": ["seat-churn"],
        }
    if rng.random() < 0.05:
        acct["exception"] = {"priority": 1, "reason": "key strategic initiative"}
    acct["digital"] = rng.random() < 0.05
    return acct


def generate(directory: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(count):
        text = yaml.dump(make_account(rng, i), Dumper=_Dumper, sort_keys=False)
        (directory / f"customer-{i:05d}.yml").write_text(text, encoding="utf-8")


def time_yaml_only(directory: Path) -> float:
    start = time.perf_counter()
    names = sorted(n for n in os.listdir(directory) if n.endswith((".yml", ".yaml")))
    for name in names:
        with open(directory / name, "rb") as handle:
            yaml.load(handle.read(), Loader=_Loader)
    return time.perf_counter() - start


def time_assess(directory: Path, cache: Path | None = None) -> tuple[float, int, int]:
    start = time.perf_counter()
    run = run_assess(directory, Rules(), TODAY, cache=cache)
    return time.perf_counter() - start, len(run.assessments), len(run.problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=7, help="interleaved rounds; the medians are reported"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    print(f"libyaml C loader: {'yes' if _Loader.__name__.startswith('C') else 'NO'}")
    with tempfile.TemporaryDirectory(prefix="gl-csm-bench-") as tmp:
        directory = Path(tmp) / "accounts"
        directory.mkdir()
        generate(directory, args.accounts, args.seed)
        cache = Path(tmp) / "cache"
        time_assess(directory, cache)  # the run that fills the cache
        yaml_times: list[float] = []
        assess_times: list[float] = []
        cached_times: list[float] = []
        assessed = problems = 0
        for round_no in range(args.rounds):
            # Alternate which side goes first: file-cache and CPU-frequency effects of
            # going second are shared out evenly.
            if round_no % 2 == 0:
                yaml_times.append(time_yaml_only(directory))
                elapsed, assessed, problems = time_assess(directory)
                assess_times.append(elapsed)
                cached_times.append(time_assess(directory, cache)[0])
            else:
                cached_times.append(time_assess(directory, cache)[0])
                elapsed, assessed, problems = time_assess(directory)
                assess_times.append(elapsed)
                yaml_times.append(time_yaml_only(directory))
        if problems:
            print(f"unexpected problems in generated files: {problems}", file=sys.stderr)
            return 1
        a, b = statistics.median(yaml_times), statistics.median(assess_times)
        ratios = [y / x for x, y in zip(yaml_times, assess_times, strict=True)]
        ratio = statistics.median(ratios)
        n = args.accounts
        print(f"accounts:            {n} ({assessed} assessed), {args.rounds} interleaved rounds")
        print(f"(a) yaml load only:  {a:.3f} s median  {n / a:,.0f} accounts/s")
        print(f"(b) run_assess:      {b:.3f} s median  {n / b:,.0f} accounts/s")
        spread = f"rounds {min(ratios):.2f}-{max(ratios):.2f}"
        verdict = "met" if ratio <= 1.5 else "MISSED"
        print(f"ratio (b)/(a):       {ratio:.2f}x median ({spread}; goal <= 1.5x: {verdict})")
        c = statistics.median(cached_times)
        cached = statistics.median(z / x for x, z in zip(yaml_times, cached_times, strict=True))
        print(f"(c) cache warm:      {c:.3f} s median  {n / c:,.0f} accounts/s")
        print(f"ratio (c)/(a):       {cached:.2f}x median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
