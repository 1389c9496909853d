"""How fast does Impact Bot answer Slack? `/impact measures` and `/impact report KEY VALUE`
against a bare Bolt app.

Both run under the same gunicorn settings (1 worker × 8 threads) against the Slack
emulator. Prints ack latency p50/p99 for each (interleaved, signed requests) beside bare
Bolt's, the time until Impact Bot's answer reaches Slack, 16 concurrent clients
(throughput, p99, slowest of 400), and the serve process's resident memory.

`--slow`: slow Slack instead. Every Web API call takes 0.5 s (the emulator's latency knob),
`conversations.history`/`replies` follow Slack's 2025 Tier-1 profile (1 call a minute, 15
messages), and 10 win reactions a second arrive for `--seconds` with `/impact help`,
`measures` and `report` among them. Prints ack p50/p99/max and how many took over 3 s.

    python bench/ack.py [--requests 400] [--database URL] [--slow [--seconds 10]]
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import SlackDriver, SlackEmulator  # noqa: E402

SECRET = "bench-signing-secret"
GOALS = ("goals: measures and report p50 ≤ 4 ms and p99 ≤ 15 ms, 400 concurrent all < 3 s, "
         "RSS ≤ 120 MB")
SLOW_GOALS = "goals (slow Slack): p99 ack ≤ 1 s, 0 acks over 3 s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if ready in line:
            return process


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master + workers)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def pss_mb(pid: int) -> float:
    """Proportional memory of a process and its children: shared pages counted once."""
    pids = [pid] + [int(p) for p in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def worker_rss_mb(pid: int) -> float:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return max(rss_mb(int(c)) for c in children)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--slow", action="store_true", help="slow Slack: 0.5 s per Web API "
                        "call, Tier-1 history, 10 reactions a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    from bot.initiative.importer import import_file
    from storage.db import Store

    tmp = tempfile.mkdtemp(prefix="impactbot-bench-")
    database = args.database or f"sqlite:///{tmp}/bench.db"
    store = Store(database)
    store.upgrade()
    import_file(store, ROOT / "examples" / "initiative.yml", datetime.now(UTC))
    store.dispose()

    with SlackEmulator() as emu:
        emu.add_user("U0AAA", real_name="Ana Health")
        env = {**os.environ, "SLACK_BOT_TOKEN": emu.bot_token, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": emu.api_url, "DATABASE_URL": database, "LOG_LEVEL": "WARNING",
               "WEB_CONCURRENCY": "1", "WEB_THREADS": "8", "PYTHONPATH": str(ROOT)}
        env.pop("SLACK_APP_TOKEN", None)
        ours_port, bare_port = free_port(), free_port()
        ours = start([sys.executable, "-m", "bot", "serve"], {**env, "PORT": str(ours_port),
                                                               "LOG_LEVEL": "INFO"}, "ready")
        bare = start([sys.executable, "-m", "gunicorn", "bench.bare_app:app", "-b",
                      f"127.0.0.1:{bare_port}", "-w", "1", "--threads", "8", "-k", "gthread",
                      "--log-level", "info"], env, "Booting worker")
        try:
            ours_driver = SlackDriver(f"http://127.0.0.1:{ours_port}/slack/events", SECRET, emu)
            bare_driver = SlackDriver(f"http://127.0.0.1:{bare_port}/slack/events", SECRET, emu)
            for _ in range(20):  # warm up both
                ours_driver.command("U0AAA", "measures")
                bare_driver.command("U0AAA", "measures")
            emu.wait_for(lambda e: len(e.response_posts) >= 40, timeout=30)

            if args.slow:
                return slow_slack(emu, ours_driver, args.seconds)

            ours_ms: list[float] = []
            report_ms: list[float] = []
            bare_ms: list[float] = []
            answered_ms: list[float] = []
            for _ in range(args.requests // 2):
                before = len(emu.response_posts)
                start_at = time.perf_counter()
                reply = ours_driver.command("U0AAA", "measures")
                ours_ms.append(reply.elapsed * 1000)
                assert reply.status == 200, reply
                emu.wait_for(lambda e, n=before: len(e.response_posts) > n, timeout=10)
                answered_ms.append((time.perf_counter() - start_at) * 1000)
                reply = ours_driver.command("U0AAA", "report prenatal-visits 70")
                report_ms.append(reply.elapsed * 1000)
                assert reply.status == 200, reply
                emu.wait_for(lambda e, n=before: len(e.response_posts) > n + 1, timeout=10)
                reply = bare_driver.command("U0AAA", "measures")
                bare_ms.append(reply.elapsed * 1000)
                emu.wait_for(lambda e, n=before: len(e.response_posts) > n + 2, timeout=10)

            def one(_: int) -> float:
                reply = ours_driver.command("U0AAA", "measures")
                assert reply.status == 200
                return reply.elapsed

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                concurrent = list(pool.map(one, range(args.requests)))
            wall = time.perf_counter() - started
            total_rss, worker_rss = rss_mb(ours.pid), worker_rss_mb(ours.pid)
            total_pss = pss_mb(ours.pid)
        finally:
            for process in (ours, bare):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    p50o, p99o = statistics.median(ours_ms), pct(ours_ms, 0.99)
    p50b, p99b = statistics.median(bare_ms), pct(bare_ms, 0.99)
    p50r, p99r = statistics.median(report_ms), pct(report_ms, 0.99)
    print(f"ack latency over {len(ours_ms)} interleaved rounds (ms):")
    print(f"  impact bot /impact measures  p50 {p50o:6.2f}  p99 {p99o:6.2f}")
    print(f"  impact bot /impact report    p50 {p50r:6.2f}  p99 {p99r:6.2f}")
    print(f"  bare bolt                    p50 {p50b:6.2f}  p99 {p99b:6.2f}")
    print(f"  ratio measures / bare        p50 {p50o / p50b:5.2f}×  p99 {p99o / p99b:5.2f}×")
    print(f"answer reaches Slack (ack + DB read + response_url): "
          f"p50 {statistics.median(answered_ms):.1f} ms  p99 {pct(answered_ms, 0.99):.1f} ms")
    print(f"16 concurrent clients, {len(concurrent)} requests: {len(concurrent) / wall:.0f} req/s, "
          f"p99 {pct(concurrent, 0.99) * 1000:.1f} ms, slowest {max(concurrent) * 1000:.1f} ms, "
          f"{sum(c < 3 for c in concurrent)}/{len(concurrent)} under 3 s")
    print(f"serve RSS: worker {worker_rss:.0f} MB, master + worker {total_rss:.0f} MB "
          f"(PSS, shared pages counted once: {total_pss:.0f} MB)")
    print(GOALS)
    return 0


def slow_slack(emu: SlackEmulator, driver: SlackDriver, seconds: float) -> int:
    """10 win reactions a second, and commands among them, while Slack is slow."""
    messages = [emu.add_message("C0GENERAL", user="U0AAA", text=f"Win {n}")
                for n in range(int(seconds * 10))]
    emu.set_latency(0.5)
    emu.tier1_history()
    sent: list[tuple[str, float]] = []
    lock = threading.Lock()

    def send(kind: str, n: int) -> None:
        if kind == "reaction":
            reply = driver.reaction("U0BBB", "C0GENERAL", messages[n])
        else:
            reply = driver.command("U0AAA", kind)
        with lock:
            sent.append((kind.split()[0], reply.elapsed if reply.status == 200 else 99.0))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(len(messages)):
            due = started + n * 0.1
            time.sleep(max(0.0, due - time.perf_counter()))
            pool.submit(send, "reaction", n)
            if n % 3 == 0:
                pool.submit(send, ("help", "measures", "report prenatal-visits 70")[n // 3 % 3], n)
    acks = [elapsed * 1000 for _, elapsed in sent]
    print(f"slow Slack (0.5 s per Web API call, Tier-1 history, 10 reactions/s for "
          f"{seconds:.0f} s): {len(acks)} requests "
          f"({sum(k == 'reaction' for k, _ in sent)} reactions)")
    print(f"  ack p50 {statistics.median(acks):.1f} ms  p99 {pct(acks, 0.99):.1f} ms  "
          f"max {max(acks):.1f} ms  over 3 s: {sum(a > 3000 for a in acks)}")
    for kind in ("reaction", "help", "measures", "report"):
        mine = [a for k, a in ((k, e * 1000) for k, e in sent) if k == kind]
        if mine:
            print(f"  {kind:9s} n={len(mine):4d}  p50 {statistics.median(mine):7.1f} ms  "
                  f"p99 {pct(mine, 0.99):7.1f} ms")
    print(SLOW_GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
