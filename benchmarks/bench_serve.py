"""Load test of `gl-csm serve`'s HTTP side (issue 10 item 13): loopback only, bounded
in count and time, stops by itself.

    python benchmarks/bench_serve.py [--deliveries 1000] [--concurrency 100] [--slow 200]

A child process runs the real server (gl_csm.webhook_server: WebhookApp on waitress)
with a worker that takes WORK_MS per payload and records which delivery it acted on.
The parent sends DELIVERIES distinct Issue Hook payloads over CONCURRENCY kept-alive
connections while SLOW clients hold connections open, trickling a request one byte a
second. It then checks: every delivery answered 202 (never a reset, a timeout or a
5xx); each delivery acted on exactly once or counted as dropped in /-/health; the
server's peak RSS. The dropped ones are what the scheduled triage catches up.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

SECRET = "bench-secret"
WORK_MS = 5
LIMIT_S = 300  # the whole run stops by itself after this


def payload(i: int) -> dict:
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "project": {"id": 1, "path_with_namespace": "customer-success/accounts"},
        "object_attributes": {"id": i, "iid": i, "action": "update"},
        "labels": [{"title": "triage::needed"}],
        "changes": {"labels": {"previous": [], "current": [{"title": "triage::needed"}]}},
    }


# ---------------------------------------------------------------- the server (child)


def serve(port_file: Path, acted_file: Path) -> None:
    import logging

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from gl_csm.webhook_server import WebhookApp, make_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N"

    acted = acted_file.open("a", buffering=1)

    def handle(data: dict) -> str:
        time.sleep(WORK_MS / 1000)
        acted.write(f"{data['object_attributes']['iid']}\n")
        return "ok"

    app = WebhookApp(handle, SECRET, log=open(os.devnull, "w"))  # noqa: SIM115
    server = make_server(app, "127.0.0.1", 0)
    app.start()
    port_file.write_text(str(server.server_address[1]))
    deadline = threading.Timer(LIMIT_S, server.shutdown)
    deadline.daemon = True
    deadline.start()
    try:
        server.serve_forever()
    finally:
        app.stop(timeout=30)
        acted.close()


# ---------------------------------------------------------------- the load (parent)


def slow_client(port: int, stop: threading.Event, errors: Counter) -> None:
    """Opens a connection and trickles a request a byte a second until told to stop
    or the server closes it (waitress closes idle channels after channel_timeout)."""
    request = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            for byte in request:
                if stop.is_set():
                    return
                sock.sendall(bytes([byte]))
                stop.wait(1.0)
    except OSError:
        errors["slow client closed by server"] += 1


def rss_peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--server", nargs=2, metavar=("PORT_FILE", "ACTED_FILE"))
    args = parser.parse_args()
    if args.server:
        serve(Path(args.server[0]), Path(args.server[1]))
        return 0

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-serve-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    port_file, acted_file = work / "port", work / "acted"
    child = subprocess.Popen(
        [sys.executable, __file__, "--server", str(port_file), str(acted_file)]
    )
    try:
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.1)
        port = int(port_file.read_text())
        url = f"http://127.0.0.1:{port}"
        rss_idle = rss_peak_kib(child.pid)

        stop = threading.Event()
        slow_errors: Counter = Counter()
        slow_threads = [
            threading.Thread(target=slow_client, args=(port, stop, slow_errors), daemon=True)
            for _ in range(args.slow)
        ]
        for t in slow_threads:
            t.start()
        time.sleep(1.0)

        local = threading.local()
        statuses: Counter = Counter()
        errors: Counter = Counter()
        latencies: list[float] = []
        lock = threading.Lock()

        def deliver(i: int) -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            headers = {
                "X-Gitlab-Event": "Issue Hook",
                "X-Gitlab-Token": SECRET,
                "Idempotency-Key": f"bench-{i}",
            }
            started = time.perf_counter()
            try:
                r = session.post(url, json=payload(i), headers=headers, timeout=30)
                key = r.status_code
            except requests.RequestException as exc:
                key = type(exc).__name__
            elapsed = time.perf_counter() - started
            with lock:
                (statuses if isinstance(key, int) else errors)[key] += 1
                latencies.append(elapsed)

        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(deliver, range(1, args.deliveries + 1)))
        wall = time.perf_counter() - started

        # Let the worker drain what it queued (bounded).
        health: dict = {}
        for _ in range(600):
            health = requests.get(f"{url}/-/health", timeout=5).json()
            if health["queued"] == 0 and health["processed"] + health["dropped"] >= args.deliveries:
                break
            time.sleep(0.1)
        stop.set()
        rss_peak = rss_peak_kib(child.pid)
    finally:
        child.terminate()
        child.wait(60)

    acted = Counter(int(x) for x in acted_file.read_text().split())
    twice = [i for i, n in acted.items() if n > 1]
    latencies.sort()
    result = {
        "deliveries": args.deliveries,
        "concurrency": args.concurrency,
        "slow_clients": args.slow,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "wall_s": round(wall, 2),
        "deliveries_per_s": round(args.deliveries / wall, 1),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "latency_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "acted_on": len(acted),
        "acted_twice": len(twice),
        "dropped": health.get("dropped"),
        "acted_plus_dropped": len(acted) + int(health.get("dropped") or 0),
        "slow_clients_closed_by_server": slow_errors["slow client closed by server"],
        "rss_idle_mib": round(rss_idle / 1024, 1),
        "rss_peak_mib": round(rss_peak / 1024, 1),
    }
    print(json.dumps(result, indent=2))
    ok = (
        set(statuses) <= {200, 202}
        and not errors
        and not twice
        and result["acted_plus_dropped"] == args.deliveries
    )
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
