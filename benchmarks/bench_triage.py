"""Benchmark `gl-csm triage` side by side with the floor (a script, not a test).

For each N, generates N accounts and starts two sandboxes, each a separate
`gl-csm sandbox serve --latency-ms 20` process: one for gl-csm, one for the minimal
python-gitlab client of ``minimal_client.py`` (same data, same labels and issues, no
reminders). Both run their first run, then ``--rounds`` no-op reruns interleaved (the
side that goes first alternates), all in this one process, so the ratio is measured
in one run under the same machine load. Reported: requests (reads / writes), wall
time and CPU time of each side, the median rerun wall and CPU times and the medians of
the per-round ratios; gl-csm's first-run writes against the objects it created (issues, milestones
and commits in its sandbox) plus one update per account whose tracking issue was opened
in the same run as issues that link it (the card then links them back: two issues that
link each other take three requests); its rerun reads against the
budget ceil(N/100) x 3 + 6 (a page per 100 accounts for each internal project's open
listing, and six more: the run's seven reads that do not grow are the three projects,
the history folder and its file, the post-sales group's issues and its closed
milestones, so the listings must stay a page under their share).

    python benchmarks/bench_triage.py --accounts 1000 5000 [--latency-ms 20] [--rounds 5]
        [--profile] [--no-memory]
    python benchmarks/bench_triage.py --accounts 5000 --prepare DIR
    python benchmarks/bench_triage.py --accounts 5000 --prepared DIR [--rounds 5] ...

``--prepare DIR`` makes both sides' first runs in this process, through the sandbox's
in-process adapter (no server, no latency: at 5,000 accounts a first run over HTTP takes
longer than a session here), and leaves in DIR the registry, the config and both
sandboxes' states; its sandboxes' clocks move 50 ms a request, about a served sandbox's
pace, so the first run's race checks read what they would over HTTP. ``--prepared DIR``
then serves those states (each side its own `sandbox serve --latency-ms`) and measures
the interleaved no-op reruns only: the code measured is the code of that run, and the
states can be measured again after a change of the bot.

CPU time is ``time.process_time()`` around each run: both sides run in this process
(the sandboxes are other processes), so it counts exactly one side's work, its reading
threads included. Peak memory cannot be told apart inside one process (the first side
to run leaves its high-water mark), so after the interleaved rounds each side runs one
more no-op rerun in a child process of its own (``--child``) and its peak resident set
is read at its end (VmHWM of ``/proc/self/status``): both children import the same modules
(``minimal_client`` imports gl_csm's registry and assessment), so the difference is the
run's own memory. ``--profile`` prints the top functions of one more gl-csm no-op
rerun under cProfile (cumulative, then own time) to stderr.

Pacing is off (``rules: {pacing: {issues_per_minute: 0, notes_per_minute: 0}}``): the
sandbox has no rate limit, and paced writes would only measure the pacer. Listings
are read with the default ``pacing.read_workers`` (4).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import minimal_client  # noqa: E402

from gl_csm.config import Settings, load_settings  # noqa: E402
from gl_csm.gitlab.gateway import Gateway  # noqa: E402
from gl_csm.runtime import pace_limits, seed_sandbox  # noqa: E402
from gl_csm.sandbox import Sandbox, SandboxAdapter  # noqa: E402
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


class Server:
    """`gl-csm sandbox serve` in its own process, with its own state file."""

    def __init__(
        self, work: Path, name: str, latency_ms: float, today: date = TODAY, port: int = 0
    ) -> None:
        # The served sandbox's clock is ``--today`` at the time of day (runtime.py).
        gl_csm = Path(sys.executable).with_name("gl-csm")
        command = [str(gl_csm)] if gl_csm.exists() else [sys.executable, "-m", "gl_csm"]
        self.proc = subprocess.Popen(
            [
                *command,
                "--config",
                str(work / "gl-csm.yml"),
                "--today",
                today.isoformat(),
                "sandbox",
                "serve",
                "--port",
                str(port),
                "--state",
                str(work / f"{name}.json"),
                "--latency-ms",
                str(int(latency_ms)),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            cwd=work,
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("{"):
                self.url = json.loads(line)["url"]
                break
        else:
            raise RuntimeError(f"sandbox server {name} did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def gl_csm_run(url: str, settings: Settings) -> dict[str, Any]:
    gateway = Gateway.connect(
        url,
        "bench-token",
        pace=pace_limits(settings),
        read_workers=settings.rules.pacing.read_workers,
    )
    start, cpu = time.perf_counter(), time.process_time()
    run = plan_triage(gateway, settings, TODAY)
    outcome = run.plan.apply(gateway)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = gateway.stats
    gateway.close()
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "reads": stats.reads,
        "writes": stats.writes,
        "changes": len(outcome.changes),
        "failures": len(outcome.failures),
        # A tracking issue opened in the same run as issues that link it
        # is completed with their links afterwards (one update per such account).
        "mutual_link_updates": sum(
            "link the issues opened in this run" in c.detail for c in outcome.changes
        ),
    }


def minimal_run(url: str, settings: Settings) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = minimal_client.run(url, "bench-token", settings, TODAY)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "reads": result.reads,
        "writes": result.writes,
        "created": result.created,
    }


def objects_in(url: str, settings: Settings) -> int:
    """Issues and commits of the three internal projects and milestones of the triage
    project (read with a separate, uncounted gateway)."""
    gateway = Gateway.connect(url, "bench-token")
    projects = settings.projects
    assert projects is not None
    total = 0
    for _, project in projects.items():
        total += len(gateway.issues(project, state="all"))
        total += len(gateway.commits(project))
    total += len(gateway.milestones(projects.triage))
    gateway.close()
    return total


def _median_ratio(ours: list[float], floor: list[float]) -> float:
    return round(statistics.median(a / b for a, b in zip(ours, floor, strict=True)), 2)


RUNNERS: dict[str, Callable[[str, Settings], dict[str, Any]]] = {
    "gl_csm": gl_csm_run,
    "minimal": minimal_run,
}


def peak_rss_mb() -> float:
    """This process's peak resident set in MB: VmHWM of /proc/self/status on Linux (the
    mark of this program's own memory; ``ru_maxrss`` would also count the parent's, which
    a child inherits across fork and exec), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) * 1024 / 1e6, 1)
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak * (1 if sys.platform == "darwin" else 1024) / 1e6, 1)


def child_peak_mb(side: str, url: str, work: Path) -> float:
    """One no-op rerun of `side` in a child process; its peak resident set in MB."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", side, "--url", url, "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_rss_mb"])


def profile_rerun(url: str, settings: Settings, top: int = 25) -> str:
    """The top functions of one gl-csm no-op rerun under cProfile."""
    profiler = cProfile.Profile()
    profiler.runcall(gl_csm_run, url, settings)
    out = io.StringIO()
    for order in ("cumulative", "tottime"):
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
    return out.getvalue()


def free_port() -> int:
    """A TCP port free on this machine now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PacedClock:
    """An in-process sandbox's clock: ``start`` plus 50 ms a request answered (about a
    served sandbox's pace, so the race checks' windows read what they would)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.requests = start, 0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=0.05 * self.requests)

    def restart(self, start: datetime) -> None:
        self.start, self.requests = start, 0


def paced_sandbox(path: Path | None, clock: PacedClock) -> Sandbox:
    """An in-process sandbox whose requests move ``clock``."""
    sandbox = Sandbox(path, clock=clock)
    handle = sandbox.handle

    def counted(*args: Any, **kwargs: Any) -> Any:
        clock.requests += 1
        return handle(*args, **kwargs)

    sandbox.handle = counted  # type: ignore[method-assign]
    return sandbox


def prepare(work: Path, n: int) -> dict[str, Any]:
    """Both sides' first runs in this process (see the module's docstring); their
    states saved in ``work`` as ``sandbox serve --state`` reads them."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "gl-csm.yml").write_text(yaml.safe_dump(CONFIG))
    generate(work / "accounts", n)
    settings = load_settings(work / "gl-csm.yml", environ={})
    result: dict[str, Any] = {"accounts": n, "prepared": str(work)}
    # The links the bot writes carry the server's address: the first runs are made on
    # the ports the reruns will serve on, or the first rerun would rewrite every link.
    ports = {side: free_port() for side in RUNNERS}
    (work / "ports.json").write_text(json.dumps(ports))
    for side in RUNNERS:
        url = f"http://127.0.0.1:{ports[side]}"
        sandbox = paced_sandbox(
            work / f"{side.replace('_', '-')}.json",
            PacedClock(datetime.combine(TODAY, dt_time(12), UTC)),
        )
        seed_sandbox(sandbox, settings)
        adapter = SandboxAdapter(sandbox)
        cpu = time.process_time()
        if side == "gl_csm":
            gateway = Gateway.for_transport(adapter, url)
            run = plan_triage(gateway, settings, TODAY)
            outcome = run.plan.apply(gateway)
            stats = gateway.stats
            result[side] = {
                "reads": stats.reads,
                "writes": stats.writes,
                "failures": len(outcome.failures),
            }
        else:
            made = minimal_client.run(url, "bench-token", settings, TODAY, adapter)
            result[side] = {"reads": made.reads, "writes": made.writes}
        result[side]["cpu_s_with_sandbox"] = round(time.process_time() - cpu, 2)
        sandbox.save()
    return result


def bench(
    n: int,
    latency_ms: float,
    rounds: int,
    *,
    memory: bool = True,
    profile: bool = False,
    prepared: Path | None = None,
) -> dict[str, Any]:
    work = prepared or Path(tempfile.mkdtemp(prefix=f"bench-triage-{n}-"))
    if prepared is None:
        (work / "gl-csm.yml").write_text(yaml.safe_dump(CONFIG))
        generate(work / "accounts", n)
    settings = load_settings(work / "gl-csm.yml", environ={})
    ports = json.loads((work / "ports.json").read_text()) if prepared else {}
    ours = Server(work, "gl-csm", latency_ms, port=ports.get("gl_csm", 0))
    floor = Server(work, "minimal", latency_ms, port=ports.get("minimal", 0))
    result: dict[str, Any] = {"accounts": n, "latency_ms": latency_ms, "rounds": rounds}
    try:
        if prepared is None:
            result["first"] = _first_runs(ours.url, floor.url, settings)
        _reruns(result, n, rounds, ours, floor, settings, work, memory=memory, profile=profile)
    finally:
        ours.stop()
        floor.stop()
    return result


def _first_runs(ours: str, floor: str, settings: Settings) -> dict[str, Any]:
    """Both sides' first runs over HTTP, and gl-csm's writes against what it created."""
    before = objects_in(ours, settings)
    first: dict[str, Any] = {"gl_csm": gl_csm_run(ours, settings)}
    first["minimal"] = minimal_run(floor, settings)
    objects = objects_in(ours, settings) - before
    first["gl_csm_objects_created"] = objects
    first["gl_csm_writes_equal_objects"] = first["gl_csm"]["writes"] == objects
    links = first["gl_csm"]["mutual_link_updates"]
    first["gl_csm_writes_equal_objects_plus_mutual_links"] = (
        first["gl_csm"]["writes"] == objects + links
    )
    first["wall_ratio"] = round(first["gl_csm"]["wall_s"] / first["minimal"]["wall_s"], 2)
    return first


def _reruns(
    result: dict[str, Any],
    n: int,
    rounds: int,
    ours: Server,
    floor: Server,
    settings: Settings,
    work: Path,
    *,
    memory: bool,
    profile: bool,
) -> None:
    """The interleaved no-op reruns (the side that goes first alternates), their
    medians and ratios, peak memory and the profile, into ``result``."""
    sides: dict[str, tuple[Callable[[], dict[str, Any]], list[dict[str, Any]]]] = {
        "gl_csm": (lambda: gl_csm_run(ours.url, settings), []),
        "minimal": (lambda: minimal_run(floor.url, settings), []),
    }
    for round_no in range(rounds):
        order = ("gl_csm", "minimal") if round_no % 2 == 0 else ("minimal", "gl_csm")
        for side in order:
            runner, runs = sides[side]
            runs.append(runner())
    rerun: dict[str, Any] = {}
    for side, (_, runs) in sides.items():
        walls = [r["wall_s"] for r in runs]
        cpus = [r["cpu_s"] for r in runs]
        rerun[side] = {
            "reads": max(r["reads"] for r in runs),
            "writes": max(r["writes"] for r in runs),
            "wall_s_median": round(statistics.median(walls), 2),
            "wall_s": walls,
            "cpu_s_median": round(statistics.median(cpus), 2),
            "cpu_s": cpus,
        }
    rerun["wall_ratio_median"] = _median_ratio(
        rerun["gl_csm"]["wall_s"], rerun["minimal"]["wall_s"]
    )
    rerun["cpu_ratio_median"] = _median_ratio(rerun["gl_csm"]["cpu_s"], rerun["minimal"]["cpu_s"])
    if memory:
        for side, server in (("gl_csm", ours), ("minimal", floor)):
            rerun[side]["peak_rss_mb"] = child_peak_mb(side, server.url, work)
        rerun["peak_rss_ratio"] = round(
            rerun["gl_csm"]["peak_rss_mb"] / rerun["minimal"]["peak_rss_mb"], 2
        )
    if profile:
        print(profile_rerun(ours.url, settings), file=sys.stderr, flush=True)
    result["rerun"] = rerun
    budget = math.ceil(n / 100) * 3 + 6
    result["rerun_read_budget"] = budget
    done = {
        "rerun_reads_within_budget": rerun["gl_csm"]["reads"] <= budget,
        "rerun_writes_0": rerun["gl_csm"]["writes"] == 0,
        "rerun_wall_within_1.5x_floor": rerun["wall_ratio_median"] <= 1.5,
        "rerun_wall_within_1.2x_floor": rerun["wall_ratio_median"] <= 1.2,
        "rerun_cpu_within_1.3x_floor": rerun["cpu_ratio_median"] <= 1.3,
    }
    first = result.get("first")
    if first is not None:
        done["first_run_writes_equal_objects"] = first["gl_csm_writes_equal_objects"]
        done["first_run_writes_equal_objects_plus_mutual_links"] = first[
            "gl_csm_writes_equal_objects_plus_mutual_links"
        ]
    result["done_when"] = done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved no-op reruns")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one gl-csm no-op rerun (stderr)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child runs")
    parser.add_argument(
        "--prepare", type=Path, help="make both first runs in-process into DIR, then stop"
    )
    parser.add_argument(
        "--prepared", type=Path, help="measure the no-op reruns of a --prepare'd DIR"
    )
    # Internal: one side's run in a child process, for its peak memory.
    parser.add_argument("--child", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        settings = load_settings(args.work / "gl-csm.yml", environ={})
        run = RUNNERS[args.child](args.url, settings)
        print(json.dumps({**run, "peak_rss_mb": peak_rss_mb()}))
        return
    if args.prepare is not None:
        if len(args.accounts) != 1:
            parser.error("--prepare makes one directory: give one --accounts N")
        print(json.dumps(prepare(args.prepare, args.accounts[0])), flush=True)
        return
    # A terminated benchmark still stops its sandbox servers (the `finally` in bench).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    for n in args.accounts:
        result = bench(
            n,
            args.latency_ms,
            args.rounds,
            memory=not args.no_memory,
            profile=args.profile,
            prepared=args.prepared,
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
