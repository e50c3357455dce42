"""Load test of `gl-csm serve` with the real react worker against `gl-csm sandbox serve`,
while thousands of slow clients hold connections. Loopback (127.0.0.1) only, bounded in
count and time (LIMIT_S), stops by itself.

    python benchmarks/bench_serve.py [--slow 2000] [--every 3] [--rounds 2] [--queue 3]

1. `gl-csm sandbox serve` (a child process) gets the sample registry's accounts:
   `gl-csm setup` and `gl-csm triage` open their tracking issues.
2. A second child runs the webhook server (gl_csm.webhook_server on the event-loop
   server of gl_csm.webhook_http) whose worker is the one `gl-csm serve` runs: a fresh
   runtime per payload and ``react`` over HTTP against the sandbox server. Its queue is
   small (``--queue``), so some deliveries are dropped, as they are under a burst.
3. SLOW connections trickle a request head one byte every EVERY seconds; the server
   closes each at its head deadline and the client opens a new one, so SLOW connections
   are held all along.
4. A person adds ``triage::needed`` to every tracking issue; GitLab's deliveries
   (ROUNDS per issue, each with its own Idempotency-Key, then one redelivery of the
   first key) are sent at once. Each must be answered within GitLab's 10 s.
5. Checks: deliveries accepted (202) = acted + dropped; none acted twice (by key, and one
   triage issue per account); a redelivery is "duplicate" when its first was queued,
   and queued again when its first was dropped; then the scheduled `gl-csm triage`
   reaches the effect of every dropped delivery (an open triage issue for its account)
   and a rerun writes nothing.

Prints the figures (connections held, deliveries answered in time, latencies, the
server's peak memory, its disk writes) as JSON, then ok or FAILED (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The slow-connection driver the hostile test uses too.
from tests.hostile.slow_clients import SlowClients  # noqa: E402

SECRET = "bench-secret"
TOKEN = "bench-token"
TODAY = "2026-11-23"
ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
GITLAB_WAITS_S = 10.0
LIMIT_S = 600  # the whole run stops by itself after this


# ---------------------------------------------------------------- the webhook server (child)


def serve(workdir: Path, sandbox_url: str, port_file: Path, log_file: Path, queue: int) -> None:
    """The webhook server with the very worker of `gl-csm serve`
    (``webhook_server.react_handler``): a fresh runtime per payload, ``react`` against the
    sandbox server, failures raised."""
    sys.path.insert(0, str(ROOT))
    from datetime import date

    from gl_csm.config import load_settings
    from gl_csm.webhook_server import WebhookApp, make_server, react_handler

    env = {**os.environ, "GITLAB_URL": sandbox_url, "GITLAB_TOKEN": TOKEN}
    settings = load_settings(workdir / "gl-csm.yml", explicit=True, environ=env)
    handle = react_handler(settings, workdir / "unused.json", date.fromisoformat(TODAY))

    log = log_file.open("a", buffering=1)
    app = WebhookApp(handle, SECRET, log=log, queue_max=queue)
    server = make_server(app, "127.0.0.1", 0)
    app.start()

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    deadline = threading.Timer(LIMIT_S, stop)
    deadline.daemon = True
    deadline.start()
    port_file.write_text(str(server.server_address[1]))
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.stop(timeout=60)
        log.close()


# ---------------------------------------------------------------- the run (parent)


def _cli(workdir: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITLAB_URL", "CI_SERVER_URL")}
    env["GITLAB_TOKEN"] = TOKEN
    return subprocess.run(
        [sys.executable, "-m", "gl_csm", "--gitlab-url", url, "--today", TODAY, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _wait_for(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited {proc.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _hook(issue: dict[str, Any]) -> dict[str, Any]:
    """The Issue Hook GitLab sends when a person adds triage::needed (doc/user/project/
    integrations/webhook_events.md "Issue events")."""
    current = list(issue.get("labels") or [])
    before = [n for n in current if n != "triage::needed"]
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "user": {"id": 7, "username": "alice"},
        "project": {"id": issue["project_id"], "path_with_namespace": ACCOUNTS},
        "object_attributes": {
            "id": issue["id"],
            "iid": issue["iid"],
            "action": "update",
            "labels": [{"title": n} for n in current],
        },
        "labels": [{"title": n} for n in current],
        "changes": {
            "labels": {
                "previous": [{"title": n} for n in before],
                "current": [{"title": n} for n in current],
            }
        },
    }


def _proc_figures(pid: int) -> dict[str, int]:
    out = {"rss_peak_kib": -1, "write_bytes": -1}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["rss_peak_kib"] = int(line.split()[1])
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                out["write_bytes"] = int(line.split()[1])
    except OSError:
        pass
    return out


def run(args: argparse.Namespace) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.slow + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
    started_all = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    shutil.copytree(ROOT / "accounts", work / "accounts")
    shutil.copy(ROOT / "gl-csm.yml", work / "gl-csm.yml")
    sandbox_port = _free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    children: list[subprocess.Popen[str]] = []
    result: dict[str, Any] = {"slow_clients": args.slow, "trickle_every_s": args.every}
    try:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "gl_csm", "sandbox", "serve", "--port", str(sandbox_port)]
            + ["--state", str(work / "served.json")],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        children.append(sandbox)
        _wait_for(f"{sandbox_url}/api/v4/version", sandbox)
        for step in (("setup",), ("triage",)):
            done = _cli(work, sandbox_url, *step)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"gl-csm {step[0]}: {done.stderr}")

        sys.path.insert(0, str(ROOT))
        from gl_csm import markers
        from gl_csm.gitlab.gateway import Gateway

        person = Gateway.connect(sandbox_url, TOKEN)
        tracking = markers.index_by_marker(person.issues(ACCOUNTS, state="all"), "tracking")
        slugs = sorted(tracking)
        hooks: dict[str, dict[str, Any]] = {}
        for slug in slugs:
            iid = tracking[slug]["iid"]
            person.update_issue(ACCOUNTS, iid, add_labels="triage::needed")
            fresh = person.issue(ACCOUNTS, iid)
            assert fresh is not None
            hooks[slug] = _hook(fresh)
        in_triage = markers.index_by_marker(person.issues(TRIAGE, state="opened"), "triage")

        port_file, log_file = work / "port", work / "serve.log"
        server = subprocess.Popen(
            [sys.executable, __file__, "--server", str(work), sandbox_url, str(port_file)]
            + [str(log_file), str(args.queue)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(server)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        url = f"http://127.0.0.1:{port}"
        rss_idle = _proc_figures(server.pid)["rss_peak_kib"]

        slow = SlowClients(port, args.slow, args.every)
        slow.thread.start()
        time.sleep(args.every * 2)  # every slow client connected and sent bytes

        deliveries = [(f"bench-{slug}-{n}", slug) for n in range(args.rounds) for slug in slugs]
        answers: dict[str, tuple[Any, float]] = {}
        lock = threading.Lock()

        def deliver(item: tuple[str, str]) -> None:
            key, slug = item
            headers = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SECRET}
            headers["Idempotency-Key"] = key
            began = time.perf_counter()
            try:
                r = requests.post(url, json=hooks[slug], headers=headers, timeout=GITLAB_WAITS_S)
                answer: Any = (r.status_code, r.json().get("status"))
            except requests.RequestException as exc:
                answer = (type(exc).__name__, None)
            with lock:
                answers[key] = (answer, time.perf_counter() - began)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(deliver, deliveries))
        # GitLab's redelivery of each account's first delivery, same key.
        first_keys = [f"bench-{slug}-0" for slug in slugs]
        first_status = {k: answers[k][0][1] for k in first_keys}
        redelivered: dict[str, tuple[Any, float]] = {}
        for key in first_keys:
            slug = key[len("bench-") : key.rindex("-")]
            began = time.perf_counter()
            headers = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SECRET}
            r = requests.post(
                url,
                json=hooks[slug],
                headers={**headers, "Idempotency-Key": key},
                timeout=GITLAB_WAITS_S,
            )
            redelivered[key] = (
                (r.status_code, r.json().get("status")),
                time.perf_counter() - began,
            )

        health: dict[str, Any] = {}
        while time.monotonic() - started_all < LIMIT_S - 60:
            health = requests.get(f"{url}/-/health", timeout=GITLAB_WAITS_S).json()
            if health["queued"] == 0 and health["processed"] + health["failed"] + health[
                "dropped"
            ] >= sum(1 for a, _ in [*answers.values(), *redelivered.values()] if a[0] == 202):
                break
            time.sleep(0.2)
        slow.stop.set()
        slow.thread.join(30)
        figures = _proc_figures(server.pid)
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=120)

        log = log_file.read_text()
        acted = Counter(re.findall(r"gl-csm serve: (bench-\S+) \S+: trigger:", log))
        dropped_keys = re.findall(r"gl-csm serve: (bench-\S+) \S+: queue full, dropped", log)
        failed_lines = [line for line in log.splitlines() if ": failed: " in line]
        glued = [line for line in log.splitlines() if line.count("gl-csm serve:") != 1]
        all_answers = [*answers.values(), *redelivered.values()]
        accepted = sum(1 for a, _ in all_answers if a[0] == 202)
        late = [t for _, t in all_answers if t >= GITLAB_WAITS_S]
        not_202 = Counter(str(a[0]) for a, _ in answers.values() if a[0] != 202)

        # Redelivery: "duplicate" when the first was queued, queued again when dropped.
        redelivery_ok = all(
            redelivered[k][0]
            == ((200, "duplicate") if first_status[k] == "queued" else (202, "queued"))
            or (first_status[k] == "dropped" and redelivered[k][0] == (202, "dropped"))
            for k in first_keys
        )
        # The scheduled triage reaches what was dropped: for every account none of whose
        # deliveries was acted on, a reaction planned after the triage (dry run) would
        # change nothing, while before it, it would have (where it acts at all).
        acted_slugs = {k[len("bench-") : k.rindex("-")] for k in acted}
        only_dropped = sorted(set(slugs) - acted_slugs)
        before_triage = {
            slug: _would_change(work, sandbox_url, hooks[slug]) for slug in only_dropped
        }
        scheduled = _cli(work, sandbox_url, "triage")
        after_triage = {
            slug: _would_change(work, sandbox_url, hooks[slug]) for slug in only_dropped
        }
        rerun = _cli(work, sandbox_url, "triage", "--stats")
        per_account = Counter(
            key
            for issue in person.issues(TRIAGE, state="all")
            for kind, key in markers.markers_in(issue.get("description"))
            if kind == "triage"
        )
        result.update(
            {
                "accounts": len(slugs),
                "deliveries": len(deliveries) + len(first_keys),
                # Connected at each tick after the first two (connecting): the median, and
                # the lowest (a tick just after a batch was closed at its head deadline
                # and is reconnecting).
                "connections_held_median": sorted(slow.held[2:])[len(slow.held[2:]) // 2]
                if slow.held[2:]
                else 0,
                "connections_held_min": min(slow.held[2:]) if slow.held[2:] else 0,
                "connections_held_max": max(slow.held) if slow.held else 0,
                "slow_connections_closed_by_server": slow.closed_by_server,
                "answered_within_10s": len(all_answers) - len(late),
                "answered_late_or_not": len(late) + sum(not_202.values()),
                "not_202": dict(not_202),
                "latency_max_ms": round(1000 * max(t for _, t in all_answers), 1),
                "latency_p50_ms": round(
                    1000 * sorted(t for _, t in all_answers)[len(all_answers) // 2], 1
                ),
                "accepted_202": accepted,
                "acted": sum(acted.values()),
                "dropped": len(dropped_keys),
                "failed": len(failed_lines),
                "acted_twice": sorted(k for k, n in acted.items() if n > 1),
                "triage_issues_per_account_max": max(per_account.values(), default=0),
                "redelivery_ok": redelivery_ok,
                "accounts_only_dropped": len(only_dropped),
                "their_reaction_would_change_before_triage": sum(
                    1 for n in before_triage.values() if n
                ),
                "their_reaction_would_change_after_triage": sorted(
                    slug for slug, n in after_triage.items() if n
                ),
                "scheduled_triage_exit": scheduled.returncode,
                "rerun_writes": _writes(rerun.stdout + rerun.stderr),
                "log_lines_glued": len(glued),
                "server_rss_idle_mib": round(rss_idle / 1024, 1),
                "server_rss_peak_mib": round(figures["rss_peak_kib"] / 1024, 1),
                "server_disk_write_bytes": figures["write_bytes"],
                "server_exit": server.returncode,
                "wall_s": round(time.monotonic() - started_all, 1),
            }
        )
        if failed_lines:
            result["first_failure"] = failed_lines[0][:300]
        if server.returncode:
            result["server_stderr"] = err[-500:]
        result["accounts_in_triage_before"] = len(in_triage)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(json.dumps(result, indent=2))
    ok = (
        result["answered_late_or_not"] == 0
        and result["connections_held_median"] >= args.slow * 0.95
        and result["accepted_202"] == result["acted"] + result["dropped"]
        and result["failed"] == 0
        and not result["acted_twice"]
        and result["triage_issues_per_account_max"] == 1
        and result["redelivery_ok"]
        and result["accounts_only_dropped"] > 0
        and result["their_reaction_would_change_before_triage"] > 0
        and not result["their_reaction_would_change_after_triage"]
        and result["rerun_writes"] == 0
        and result["log_lines_glued"] == 0
    )
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


def _would_change(work: Path, sandbox_url: str, hook: dict[str, Any]) -> int:
    """How many changes the reaction to ``hook`` would make now (a dry run)."""
    from datetime import date

    from gl_csm.config import load_settings
    from gl_csm.gitlab.gateway import Gateway
    from gl_csm.services.react import react

    env = {**os.environ, "GITLAB_URL": sandbox_url, "GITLAB_TOKEN": TOKEN}
    settings = load_settings(work / "gl-csm.yml", explicit=True, environ=env)
    gateway = Gateway.connect(sandbox_url, TOKEN)
    try:
        _, outcome = react(gateway, settings, date.fromisoformat(TODAY), hook, dry_run=True)
    finally:
        gateway.close()
    return len(outcome.changes)


def _writes(text: str) -> int:
    """The write count of `--stats` ("API calls: N (reads R, writes W)")."""
    found = re.findall(r"writes (\d+)\)", text)
    return int(found[-1]) if found else -1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=2000, help="slow connections held")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between their bytes")
    parser.add_argument("--rounds", type=int, default=2, help="deliveries per tracking issue")
    parser.add_argument("--queue", type=int, default=3, help="the server's queue limit")
    parser.add_argument("--server", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        workdir, sandbox_url, port_file, log_file, queue = args.server
        serve(Path(workdir), sandbox_url, Path(port_file), Path(log_file), int(queue))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
