"""500 installed workspaces send their first request at the same moment, right after a
restart in multi-workspace mode: prints errors and the ack times (p50, p99, max).

By default the app runs as deployed: `impactbot serve` in a process of its own (gunicorn,
WEB_CONCURRENCY workers × WEB_THREADS threads; the compose file's 2 × 8 unless told),
started after the 500 installs are stored, against the Slack emulator on loopback (in
this process). The 500 requests are signed first; then bench/lean_client.py starts all
500 at once, each on a connection of its own, from a process of its own (Slack's servers
are not on the server's machine: a client that costs little CPU takes little from the
server being measured; `--client threads` uses a urllib thread each, in the emulator's
process, as the test does). Half the workspaces send `/impact help`, half `/impact
measures`. Also printed: the CPU the server and the clients used until the last ack, and
the server's warnings. `--in-process` runs the Sandbox instead (app, emulator and clients
in one Python process, sharing one GIL).

SQLite (a temporary file) or PostgreSQL (--database-url, a database of its own: the
bench empties it first). `--runs N` repeats the whole (fresh database, fresh server).

    python bench/first_requests.py [--workspaces 500] [--database-url URL]
        [--workers 2] [--threads 8] [--client lean|threads] [--in-process] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lean_client import build, send_all  # noqa: E402
from bot.emulator.driver import Reply  # noqa: E402
from bot.emulator.sandbox import Sandbox  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.support.first_requests import (  # noqa: E402
    Signed,
    burst,
    install_many,
    served_burst,
)

GOAL = "goal: 0 errors, p99 ack ≤ 1 s"
CLIENTS = {"lean": "the clients (one asyncio process)",
           "threads": "the clients (a thread each) + the emulator"}


def in_process(url: str, workspaces: int) -> tuple[str, list[Reply], Counter[str]]:
    settings = Settings(client_id="set-by-sandbox", client_secret="x")
    with Sandbox(url, now=datetime.now(UTC), settings=settings, upgrade=True) as sandbox:
        teams = install_many(sandbox, workspaces)
        replies = burst(sandbox, teams)
        sandbox.settle(timeout=300)
    return "in-process Sandbox (one Python process)", replies, Counter()


def lean(port: int, requests: list[Signed]) -> tuple[list[Reply], float]:
    """The requests from bench/lean_client.py's process, as the emulator driver's replies."""
    wire = [build("127.0.0.1", port, "/slack/events", body, headers)
            for body, headers in requests]
    answers, cpu = send_all("127.0.0.1", port, wire)
    return [Reply(status=a.status, body=a.body.decode("utf-8", "replace"), json=None,
                  elapsed=a.elapsed) for a in answers], cpu


def served(url: str, workspaces: int, workers: int, threads: int, client: str
           ) -> tuple[str, list[Reply], Counter[str]]:
    result = served_burst(url, workspaces, workers=workers, threads=threads,
                          send=lean if client == "lean" else None)
    n = len(result.replies)
    shape = (f"impactbot serve, gunicorn {workers} worker(s) × {threads} threads in its own "
             f"process; CPU from the release to the last ack: server {result.server_cpu:.2f}"
             f" s ({result.server_cpu / n * 1000:.1f} ms a request: the acks and the work "
             f"after them), {CLIENTS[client]} {result.client_cpu:.2f} s; "
             f"{result.answered}/{n} answers reached Slack; "
             f"{result.log_lines} server log lines")
    return shape, result.replies, result.warnings


def fresh_database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='impactbot-first-')) / 'first.db'}"
    if url.startswith("postgresql"):
        from tests.support.databases import truncate_postgres

        store = Store(url)
        store.upgrade()
        store.dispose()
        truncate_postgres(url)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--threads", type=int, default=8, help="WEB_THREADS")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="lean",
                        help="lean: bench/lean_client.py; threads: a urllib thread each, "
                             "in the emulator's process (as the test does)")
    args = parser.parse_args()
    failed = False
    for _ in range(args.runs):
        url = fresh_database(args.database_url)
        load = os.getloadavg()[0]
        if args.in_process:
            shape, replies, warnings = in_process(url, args.workspaces)
        else:
            shape, replies, warnings = served(url, args.workspaces, args.workers,
                                              args.threads, args.client)
        errors = [r.status for r in replies if r.status != 200]
        acks = sorted(r.elapsed * 1000 for r in replies)
        p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
        dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(f"{dialect}: {shape}; {os.cpu_count()} CPUs ({platform.machine()}), "
              f"load average {load:.1f} before the run")
        print(f"  {len(replies)} first requests at once, {len(errors)} errors; ack p50 "
              f"{statistics.median(acks):.0f} ms, p99 {p99:.0f} ms, max {acks[-1]:.0f} ms",
              flush=True)
        for line, count in warnings.most_common():
            print(f"  server logged ×{count}: {line}")
        failed = failed or bool(errors)
    print(f"  {GOAL}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
