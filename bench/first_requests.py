"""500 installed workspaces send their first request at the same moment, right after a
restart in multi-workspace mode: prints errors and the ack times (p50, p99, max).

By default the app runs as deployed: `impactbot serve` in a process of its own (gunicorn,
WEB_CONCURRENCY workers × WEB_THREADS threads; the compose file's 2 × 8 unless told),
started after the 500 installs are stored, against the Slack emulator on loopback (in
this process, with the 500 clients; each request is signed before a barrier releases them
all). Half the workspaces send `/impact help`, half `/impact measures`. The server's
warnings are counted and printed. `--in-process` runs the Sandbox instead (app, emulator
and clients in one Python process, sharing one GIL).

SQLite (a temporary file) or PostgreSQL (--database-url, a database of its own: the
bench empties it first).

    python bench/first_requests.py [--workspaces 500] [--database-url URL]
        [--workers 2] [--threads 8] [--in-process]
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import SlackEmulator  # noqa: E402
from bot.emulator.driver import Reply  # noqa: E402
from bot.emulator.sandbox import Sandbox  # noqa: E402
from bot.runtime.clock import SystemClock  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.support.first_requests import (  # noqa: E402
    burst,
    burst_at,
    install_many,
    install_teams,
)

SECRET = "bench-first-requests-secret"
GOAL = "goal: 0 errors, p99 ack ≤ 1 s"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn master + workers)."""
    pids = [pid] + [int(p) for p in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def in_process(url: str, workspaces: int) -> tuple[str, list[Reply], Counter[str]]:
    settings = Settings(client_id="set-by-sandbox", client_secret="x")
    with Sandbox(url, now=datetime.now(UTC), settings=settings, upgrade=True) as sandbox:
        teams = install_many(sandbox, workspaces)
        replies = burst(sandbox, teams)
        sandbox.settle(timeout=300)
    return "in-process Sandbox (one Python process)", replies, Counter()


class Server:
    """`python -m bot serve` with its log lines read in the background."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT,
                                        env=env, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.warnings: Counter[str] = Counter()
        self.lines_after_ready = 0
        self._ready = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if " WARNING " in line or " ERROR " in line or "Traceback" in line:
                self.warnings[line.split(" ", 3)[-1].strip()[:120]] += 1
            self.lines_after_ready += self._ready
            self.lines.put(line)

    def wait_ready(self, workers: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        ready = 0
        while ready < workers:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            ready += "ready" in line and "worker" in line
        self._ready = True

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def served(url: str, workspaces: int, workers: int, threads: int
           ) -> tuple[str, list[Reply], Counter[str]]:
    with SlackEmulator() as emulator:
        settings = Settings(client_id=emulator.oauth.client_id,
                            client_secret=emulator.oauth.client_secret, database_url=url)
        store = Store(url)
        store.upgrade()
        teams = install_teams(emulator, settings, store, SystemClock(), workspaces)
        store.dispose()
        port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "IMPACTBOT_"))}
        env.pop("INITIATIVE_FILE", None)
        env.update({"SLACK_CLIENT_ID": emulator.oauth.client_id,
                    "SLACK_CLIENT_SECRET": emulator.oauth.client_secret,
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": emulator.api_url,
                    "DATABASE_URL": url, "PORT": str(port), "LOG_LEVEL": "INFO",
                    "WEB_CONCURRENCY": str(workers), "WEB_THREADS": str(threads),
                    "PYTHONPATH": str(ROOT)})
        server = Server(env)  # the restart: a fresh server, every workspace already installed
        try:
            server.wait_ready(workers)
            server_cpu, own_cpu = tree_cpu(server.process.pid), time.process_time()
            replies = burst_at(f"http://127.0.0.1:{port}/slack/events", SECRET, emulator,
                               teams)
            server_cpu = tree_cpu(server.process.pid) - server_cpu
            own_cpu = time.process_time() - own_cpu
            # Every answer reaches Slack (in the ack, or on its response_url afterwards).
            emulator.wait_for(lambda e: sum(1 for r in replies if r.body.strip())
                              + len(e.response_posts) >= len(replies), timeout=300)
        finally:
            server.stop()
    shape = (f"impactbot serve: gunicorn {workers} worker(s) × {threads} threads, "
             f"its own process; CPU until the last ack: server {server_cpu:.2f} s "
             f"({server_cpu / len(replies) * 1000:.1f} ms a request, acks and the work "
             f"after them), clients and emulator {own_cpu:.2f} s; "
             f"{server.lines_after_ready} server log lines")
    return shape, replies, server.warnings


def empty_postgres(url: str) -> None:
    from tests.support.databases import truncate_postgres

    store = Store(url)
    store.upgrade()
    store.dispose()
    truncate_postgres(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--threads", type=int, default=8, help="WEB_THREADS")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    url = args.database_url or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='impactbot-first-')) / 'first.db'}")
    if url.startswith("postgresql"):
        empty_postgres(url)
    if args.in_process:
        shape, replies, warnings = in_process(url, args.workspaces)
    else:
        shape, replies, warnings = served(url, args.workspaces, args.workers, args.threads)
    errors = [r.status for r in replies if r.status != 200]
    acks = sorted(r.elapsed * 1000 for r in replies)
    p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"{dialect}, {shape}, {os.cpu_count()} CPUs ({platform.machine()}), "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  {len(replies)} first requests at once, {len(errors)} errors; ack p50 "
          f"{statistics.median(acks):.0f} ms, p99 {p99:.0f} ms, max {acks[-1]:.0f} ms")
    for line, count in warnings.most_common():
        print(f"  server logged ×{count}: {line}")
    print(f"  {GOAL}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
