"""Time-travel benchmark of `gl-csm triage` (a script, not a test): does the daily run
cost the same in its second year as in its first week?

N accounts (benchmarks/bench_triage.py's generator) against one `gl-csm sandbox serve
--latency-ms 20` process; ``--today`` moves forward one week at a time for ``--weeks``
weeks, and each week the registry changes as a real one does (calls logged, sentiment
refreshed, usage and support data updated, renewals rolled a year on once passed,
accounts added and churned) and the account teams act between runs (:func:`people_act`:
reminders that fell due closed, triage and escalations resolved once over). Each
week: the weekly run (plan and apply), then a no-op rerun of the same day. Every
``--every``-th week it reports (the server is restarted each week with that week's
``--today``: a served sandbox stamps issues with its date, runtime.sandbox_clock):

* the no-op rerun's reads (budget ceil(N/100) x 3 + 6: a page per 100 accounts for each
  of the three internal projects' open listings, and six requests more; seven of the
  run's reads do not grow with the portfolio (the three projects, the history folder
  and its file, the post-sales group's issues and its closed milestones), so the
  listings must stay a page under their share) and writes;
* the weekly run's reads, writes and wall time, its writes grouped by the reason the
  plan gives (the change's action, what it says it does and, for a rewrite of a bot
  text, the cause it names first: a date rule, a registry value or the bot's own record),
  and counted under every cause they name (``by_cause``);
* the accounts project's open issues (the daily listing) and all its issues;
* the size of the portfolio history the daily run reads (its year's file), the
  summary issue's size (the report `gl-csm report` would write; GitLab caps a
  description at 1,048,576 characters), the largest tracking card, and the process's
  peak memory (ru_maxrss).

    python benchmarks/bench_time_travel.py [--accounts 200] [--weeks 104] [--every 4]
        [--latency-ms 20] [--step-weeks 1] [--chart time-travel.png]

``--step-weeks 4`` runs the bot monthly while the registry still changes every week
(the reads of a large portfolio after a year, in a fraction of the time).

The chart needs matplotlib (``pip install -e '.[bench]'``); without it the figures are
printed all the same. One JSON line per week on stdout (the sizes on measured weeks).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_triage import (  # noqa: E402
    CONFIG,
    TODAY,
    PacedClock,
    Server,
    free_port,
    generate,
    paced_sandbox,
)

from gl_csm import markers  # noqa: E402
from gl_csm.config import Settings, load_settings  # noqa: E402
from gl_csm.gitlab.gateway import Gateway  # noqa: E402
from gl_csm.runtime import pace_limits, seed_sandbox  # noqa: E402
from gl_csm.sandbox import SandboxAdapter  # noqa: E402
from gl_csm.services.triage.history import load_history, window_start  # noqa: E402
from gl_csm.services.triage.report import load_results, render_report  # noqa: E402
from gl_csm.services.triage.run import plan_triage  # noqa: E402

NOOP_KEYS = ("reads", "writes", "wall_s", "cpu_s", "failures", "changes")
# GitLab's cap on a description, in UTF-8 bytes (app/models/concerns/issuable.rb
# validates its bytesize): the report's dashes and arrows are three bytes each.
DESCRIPTION_LIMIT = 1_048_576


class Served:
    """`gl-csm sandbox serve --latency-ms` in its own process, restarted each step with
    that day's ``--today`` (a served sandbox stamps issues with its date), on one port:
    the links the bot writes carry GitLab's web_url, and a new port would rewrite every
    link (a benchmark artifact, not a change)."""

    def __init__(self, work: Path, latency_ms: float) -> None:
        self.work, self.latency_ms = work, latency_ms
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Server | None = None

    def open(self, today: date, settings: Settings) -> None:
        self.close()
        self.server = Server(self.work, "gl-csm", self.latency_ms, today, self.port)

    def gateway(self, settings: Settings) -> Gateway:
        return Gateway.connect(
            self.url,
            "bench-token",
            pace=pace_limits(settings),
            read_workers=settings.rules.pacing.read_workers,
        )

    def logged(self) -> int:
        return 0

    def read_paths(self, since: int) -> dict[str, int]:
        """The paths read since ``since`` (requests logged), with their counts."""
        return {}

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class InProcess(Served):
    """One sandbox in this process, through its in-process adapter: no server, no
    latency, no state saved between steps. The requests, reads and writes are the same
    as a served sandbox's (the same code answers them); wall and CPU times are not a
    network's. Its clock is the step's day from 06:00, moving 50 ms a request (about a
    served sandbox's pace, so the race checks' windows read what they would)."""

    def __init__(self, work: Path, latency_ms: float) -> None:
        super().__init__(work, latency_ms)
        self.clock = PacedClock(datetime.combine(TODAY, dt_time(6), UTC))
        self.sandbox = paced_sandbox(None, self.clock)

    def open(self, today: date, settings: Settings) -> None:
        self.clock.restart(datetime.combine(today, dt_time(6), UTC))
        # A served sandbox makes a user of every username the registry names when it
        # starts (runtime.seed_sandbox); so does this one at each step.
        seed_sandbox(self.sandbox, settings)

    def gateway(self, settings: Settings) -> Gateway:
        return Gateway.connect(
            self.url,
            "bench-token",
            transport=SandboxAdapter(self.sandbox),
            pace=pace_limits(settings),
            read_workers=settings.rules.pacing.read_workers,
        )

    def logged(self) -> int:
        return len(self.sandbox.request_log)

    def read_paths(self, since: int) -> dict[str, int]:
        return dict(
            Counter(path for method, path in self.sandbox.request_log[since:] if method == "GET")
        )

    def close(self) -> None:
        pass


def _normal(text: str) -> str:
    """A text without the account's own figures (names, dates, numbers)."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "DATE", text)
    return re.sub(r"\d+", "N", text)


#: The rewrites of a bot text, whose detail names what changed after a colon
#: (services/changed_parts.py): "refresh the account card: meeting cadence, ...".
_REWRITES = ("refresh the account card", "bring the bot's part of the description")
#: Names a date rule gives (the days passed): a colour turned, a duration, stale data, a
#: next date; and those that only follow the others (listed last by the plan).
_DATE_RULE = re.compile(r"turned \w+$|\(time passed\)$|went stale$| date$")
_FOLLOWS = ("the health score", "the health history")
#: Names of what the bot itself records or links (its hidden data, its issues).
_RECORD = (
    "the record",
    "the open issues linked",
    "the issues opened in this run",
    "the card, whose markers",
    "evidence from",
    "a new gl-csm version",
)


def _cause(name: str) -> str:
    if _DATE_RULE.search(name):
        return f"date rule: {_normal(name)}"
    if name in _FOLLOWS:
        return f"follows: {name}"
    if name.startswith(_RECORD):
        return f"the bot's record: {name}"
    return f"registry: {_normal(name)}"


def _causes(action: str, detail: str) -> list[str]:
    """Each cause a change names: every name of a rewrite's list, classed (a date rule,
    the registry, the bot's own record, or what follows from those), and any other
    write's detail as a whole."""
    out = []
    for part in detail.split("; "):
        what, sep, names = part.partition(": ")
        if not sep or not what.startswith(_REWRITES):
            out.append(f"{action}: {_normal(part)[:70]}")
            continue
        out.extend(_cause(n) for n in names.split(", ") if not re.fullmatch(r"\d+ more", n))
    return out


def _reason(action: str, detail: str) -> str:
    """The reason a change gives, without the account's own figures (dates, names): for
    a rewrite of a bot text, what it rewrites and its first (leading) cause, with the
    cause's class, so the weekly run's 500 card refreshes group by what caused them."""
    parts = []
    for part in detail.split("; "):
        what, sep, names = part.partition(": ")
        if sep and what.startswith(_REWRITES):
            parts.append(f"{what}: {_cause(names.split(', ')[0])}")
        else:
            parts.append(_normal(part))
    return f"{action}: {'; '.join(parts)[:110]}"


def run_once(site: Served, settings: Settings, today: date) -> dict[str, Any]:
    gateway = site.gateway(settings)
    start, cpu = time.perf_counter(), time.process_time()
    run = plan_triage(gateway, settings, today)
    outcome = run.plan.apply(gateway)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    stats = gateway.stats
    gateway.close()
    return {
        "reads": stats.reads,
        "writes": stats.writes,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "failures": len(outcome.failures),
        "by_reason": dict(Counter(_reason(c.action, c.detail) for c in outcome.changes)),
        # A write counts once under each cause it names.
        "by_cause": dict(Counter(x for c in outcome.changes for x in _causes(c.action, c.detail))),
        "changes": [c.to_text() for c in outcome.changes][:5],
        "extra": run.extra(),
    }


class Registry:
    """The registry files, changed week by week (seeded: the same run every time)."""

    def __init__(self, directory: Path, n: int, seed: int = 7) -> None:
        self.directory = directory
        self.rng = random.Random(seed)
        self.next = n
        #: The accounts whose file was deleted (churned).
        self.removed: set[str] = set()

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.yml"))

    def week(self, today: date, n: int) -> dict[str, int]:
        rng, counts = self.rng, Counter[str]()
        for path in self.files():
            data = yaml.safe_load(path.read_text())
            if rng.random() < 0.5:
                data["engagement"]["last_call"] = today - timedelta(days=rng.randint(0, 6))
                counts["calls logged"] += 1
            if rng.random() < 0.1:
                health = rng.choices(("green", "yellow", "red"), (0.85, 0.1, 0.05))[0]
                data["sentiment"] = {"health": health, "updated": today}
                if health == "yellow":
                    data["sentiment"]["needs_triage"] = True
                counts["sentiment refreshed"] += 1
            usage = data["usage"]
            usage["as_of"] = today - timedelta(days=3)
            usage["monthly_active"] = round(
                min(1.0, max(0.1, usage["monthly_active"] + rng.uniform(-0.05, 0.05))), 2
            )
            data["support"] = {"as_of": today, "tickets_last_30_days": rng.randint(0, 8)}
            data["seats"]["active"] = max(1, min(100, data["seats"]["active"] + rng.randint(-3, 3)))
            if data["renewal_date"] < today:
                # A year on (29 February rolls to the 28th, as python-dateutil does).
                data["renewal_date"] += relativedelta(years=1)
                counts["renewals rolled"] += 1
            path.write_text(yaml.safe_dump(data, sort_keys=False))
        # About 10% of the portfolio churns and is replaced over a year.
        for _ in range(max(1, round(n * 0.1 / 52 + rng.random() - 0.5))):
            files = self.files()
            if files:
                gone = rng.choice(files)
                gone.unlink()
                self.removed.add(gone.stem)
                counts["accounts churned"] += 1
        added = max(1, round(n * 0.1 / 52 + rng.random() - 0.5))
        fresh = self.directory.parent / "fresh"
        generate(fresh, self.next + added, seed=self.next)
        for i in range(self.next, self.next + added):
            data = yaml.safe_load((fresh / f"acct-{i:05d}.yml").read_text())
            data["customer_since"] = today - timedelta(days=20)
            data["onboarding_completed"] = None
            data["renewal_date"] = today + timedelta(days=365)
            (self.directory / f"acct-{i:05d}.yml").write_text(yaml.safe_dump(data, sort_keys=False))
            counts["accounts added"] += 1
        for path in fresh.glob("*.yml"):
            path.unlink()
        self.next += added
        return dict(counts)


def people_act(
    site: Served,
    settings: Settings,
    today: date,
    removed: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, int]:
    """What the account teams do between two runs (a separate, uncounted client):

    * the CSMs close the reminder issues due by today, and act on the run's warning about
      an account whose file was deleted: its tracking issue and open reminders are closed;
    * a CSM agrees when the bot proposes leaving triage (``triage::exit-proposed``: the
      health is back to green) and sets ``triage::resolved``; the next run closes it;
    * the escalation DRI sets ``escalation::resolved`` once the account is no longer red
      (its tracking issue's health label): the next run closes the escalation.

    Without the last two the triage and escalation projects' open listings would grow
    for two years with episodes nobody ends, which no team does (SPEC 5: only a person
    resolves them)."""
    gateway = site.gateway(settings)
    projects = settings.projects
    assert projects is not None
    tax = settings.taxonomy
    done: Counter[str] = Counter()
    health: dict[str, list[str]] = {}
    for issue in gateway.issues(projects.accounts, state="opened"):
        found = markers.markers_in(issue.get("description"))
        kinds = {k for k, _ in found}
        slug = markers.own_key(issue, "tracking")
        if slug is not None:
            health[slug] = list(issue.get("labels") or [])
        gone = any(
            (k == "tracking" and key in removed)
            or (k == "reminder" and key.split(":")[0] in removed)
            for k, key in found
        )
        if gone or "reminder" in kinds and (issue.get("due_date") or "9999") <= today.isoformat():
            gateway.update_issue(projects.accounts, issue["iid"], state_event="close")
            done["reminders closed"] += 1
    proposed, resolved = tax.name("triage::exit-proposed"), tax.name("triage::resolved")
    for issue in gateway.issues(projects.triage, state="opened"):
        if proposed in (issue.get("labels") or []):
            gateway.update_issue(projects.triage, issue["iid"], add_labels=resolved)
            done["triage resolved"] += 1
    red = tax.name("health::red")
    for issue in gateway.issues(projects.escalations, state="opened"):
        slug = markers.own_key(issue, "escalation")
        if slug is not None and slug in health and red not in health[slug]:
            gateway.update_issue(
                projects.escalations,
                issue["iid"],
                add_labels=tax.name("escalation::resolved"),
            )
            done["escalations resolved"] += 1
    gateway.close()
    return dict(done)


def sizes(
    site: Served, settings: Settings, today: date, extra: dict[str, Any], work: Path
) -> dict[str, Any]:
    gateway = site.gateway(settings)
    project = settings.projects.accounts  # type: ignore[union-attr]
    opened = gateway.issues(project, state="opened")
    every = gateway.issues(project, state="all")
    cards = [len(i.get("description") or "") for i in opened if markers.own_key(i, "tracking")]
    # What the daily run reads of the history (its year's file, services/triage/history.py).
    since = window_start(today, settings.rules.history)
    history = load_history(gateway, gateway.project(project), today, since)  # type: ignore[arg-type]
    shard = work / "triage.json"
    shard.write_text(json.dumps(extra, default=str))
    body = render_report(load_results([shard]), today, settings.rules, history=history.grouped())
    gateway.close()
    return {
        "listing_open": len(opened),
        "issues_all": len(every),
        "history_chars": sum(len(t) for t in history.texts.values()),
        "summary_chars": len(body),
        "summary_share_of_limit": round(len(body.encode("utf-8")) / DESCRIPTION_LIMIT, 4),
        "card_chars_max": max(cards, default=0),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def chart(rows: list[dict[str, Any]], path: Path, n: int) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no chart", file=sys.stderr)
        return False
    weeks = [r["week"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    ax = axes[0][0]
    ax.plot(weeks, [r["noop"]["reads"] for r in rows], label="no-op rerun reads")
    ax.plot(weeks, [r["weekly"]["reads"] for r in rows], label="weekly run reads")
    ax.axhline(math.ceil(n / 100) * 3 + 6, linestyle="--", color="grey", label="budget")
    ax.set_title("reads")
    ax.legend()
    ax = axes[0][1]
    ax.plot(weeks, [r["weekly"]["writes"] for r in rows], label="weekly run writes")
    ax2 = ax.twinx()
    ax2.plot(weeks, [r["weekly"]["wall_s"] for r in rows], color="tab:red", label="wall (s)")
    ax.set_title("weekly run: writes (left), wall s (right, red)")
    ax = axes[1][0]
    ax.plot(weeks, [r["sizes"]["listing_open"] for r in rows], label="open issues (listed)")
    ax.plot(weeks, [r["sizes"]["issues_all"] for r in rows], label="all issues")
    ax.set_title("accounts project")
    ax.legend()
    ax = axes[1][1]
    ax.plot(weeks, [r["sizes"]["history_chars"] / 1000 for r in rows], label="history (k chars)")
    ax.plot(weeks, [r["sizes"]["summary_chars"] / 1000 for r in rows], label="summary (k chars)")
    ax.plot(
        weeks, [r["sizes"]["card_chars_max"] / 1000 for r in rows], label="largest card (k chars)"
    )
    ax.set_title("sizes")
    ax.legend()
    for row in axes:
        for a in row:
            a.set_xlabel("week")
    fig.suptitle(f"gl-csm triage over {weeks[-1]} simulated weeks, {n} accounts")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--every", type=int, default=1, help="measure every this many weeks")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument(
        "--step-weeks",
        type=int,
        default=1,
        help="run the bot every this many weeks (the registry still changes weekly)",
    )
    parser.add_argument("--chart", type=Path, default=None, help="PNG of the curves")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="the sandbox in this process (same requests; wall times are not a network's)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = Path(tempfile.mkdtemp(prefix="bench-time-travel-"))
    (work / "gl-csm.yml").write_text(yaml.safe_dump(CONFIG))
    generate(work / "accounts", args.accounts)
    settings = load_settings(work / "gl-csm.yml", environ={})
    registry = Registry(work / "accounts", args.accounts)
    site = (InProcess if args.in_process else Served)(work, args.latency_ms)
    rows: list[dict[str, Any]] = []
    budget = math.ceil(args.accounts / 100) * 3 + 6
    try:
        for week in range(0, args.weeks + 1, args.step_weeks):
            today = TODAY + timedelta(weeks=week)
            site.close()
            # The registry first: the server makes a user of every username it names.
            changes: Counter[str] = Counter()
            for back in range(args.step_weeks - 1, -1, -1) if week else ():
                changes.update(registry.week(today - timedelta(weeks=back), args.accounts))
            site.open(today, settings)
            acted = people_act(site, settings, today, registry.removed) if week else {}
            weekly = run_once(site, settings, today)
            logged = site.logged()
            noop = run_once(site, settings, today)
            measured = not week % args.every or week + args.step_weeks > args.weeks
            row = {
                "week": week,
                "today": today.isoformat(),
                "registry_changes": dict(changes),
                "people": acted,
                "weekly": {k: v for k, v in weekly.items() if k not in ("extra", "changes")},
                "noop": {k: noop[k] for k in NOOP_KEYS},
                "noop_within_budget": noop["reads"] <= budget,
            }
            if noop["reads"] > budget:
                # What an over-budget rerun read (in-process only): the paths, pages folded.
                row["noop_read_paths"] = site.read_paths(logged)
            if measured:
                row["sizes"] = sizes(site, settings, today, weekly["extra"], work)
                rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        site.close()
    if args.chart is not None and rows and chart(rows, args.chart, args.accounts):
        print(f"chart: {args.chart}", file=sys.stderr)


if __name__ == "__main__":
    main()
