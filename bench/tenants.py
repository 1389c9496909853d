"""Tenancy at scale: the idle tick and the scheduler's memory from 1 to 10,000 workspaces,
and a reminder round sent by two schedulers (and `impactbot remind`) across 1,000
workspaces × 20 members.

For each size the workspaces (each a small initiative: one partner, one measure, its
members) are written straight into the database with nothing due; the bench then prints
  - the idle tick: median wall time of the due-work tick over 20 ticks, and its SQL
    statements (what a scheduler does every minute when nothing is due);
  - the RSS of a real `impactbot scheduler` process after it has ticked idle a few times.
Then, on a fresh database, the round: 2 schedulers and `impactbot remind` started together
against the Slack emulator with Slack's chat.postMessage limits per workspace; prints the
time, each process's share, duplicates and lost DMs.

    python bench/tenants.py                               # SQLite, 1 … 1,000
    python bench/tenants.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    python bench/tenants.py --sizes 1,10 --round 20x5      # a quick look

PostgreSQL: give it a database of its own (its tables are emptied). The round needs
PostgreSQL (SQLite serves one writer; one scheduler is enough there).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot.emulator import SlackEmulator  # noqa: E402
from bot.runtime import scheduler  # noqa: E402
from bot.runtime.clock import SystemClock  # noqa: E402
from bot.runtime.services import Services  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.support.databases import truncate_postgres  # noqa: E402
from tests.support.many_workspaces import CLIENT_ID, member_id, provision, token_of  # noqa: E402
from tests.support.processes import BotProcess  # noqa: E402
from tests.support.scheduler_round import environment, run_round  # noqa: E402

TICKS = 20


def idle_tick(svc: Services) -> tuple[float, int]:
    """Median milliseconds and statements of an idle due-work tick."""
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    specs = [s for s in scheduler.registered_jobs() if s.per_workspace]
    times = []
    event.listen(svc.store.engine, "before_cursor_execute", count)
    try:
        for _ in range(TICKS):
            started = time.perf_counter()
            runs = scheduler.run_workspace_jobs(svc, specs)
            times.append((time.perf_counter() - started) * 1000)
            assert runs == 0, "the bench's workspaces should have nothing due"
    finally:
        event.remove(svc.store.engine, "before_cursor_execute", count)
    return statistics.median(times), len(statements) // TICKS


def scheduler_rss(url: str, emu: SlackEmulator, cwd: Path) -> float:
    """MiB resident in a real scheduler process once it has ticked idle three times."""
    env = {**environment(url, emu), "IMPACTBOT_TICK_SECONDS": "0.3", "LOG_LEVEL": "DEBUG"}
    proc = BotProcess(["scheduler"], env, cwd)
    try:
        for _ in range(3):  # APScheduler logs each run of the due-work tick
            proc.wait_for("executed successfully", timeout=120)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:"))
        return kib / 1024
    finally:
        proc.stop()


def scale(url: str, sizes: list[int], cwd: Path) -> None:
    store = Store(url)
    store.upgrade()
    if store.dialect == "postgresql":
        truncate_postgres(url)
    svc = Services(Settings(client_id=CLIENT_ID, client_secret="x", database_url=url),
                   store, SystemClock())
    later = datetime.now(UTC) + timedelta(days=7)
    have = 0
    print(f"{store.dialect}: idle due-work tick (median of {TICKS}) and scheduler RSS")
    print(f"{'workspaces':>10} {'tick ms':>8} {'statements':>10} {'RSS MiB':>8}")
    with SlackEmulator() as emu:
        for size in sizes:
            provision(store, size - have, 3, datetime.now(UTC), start=have, due_at=later)
            have = size
            if store.dialect == "postgresql":  # what autovacuum does after a bulk load
                with store.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE due_work")
            ms, statements = idle_tick(svc)
            rss = scheduler_rss(url, emu, cwd)
            print(f"{size:>10,} {ms:>8.2f} {statements:>10} {rss:>8.1f}", flush=True)
    store.dispose()


def reminder_round(url: str, workspaces: int, members: int, cwd: Path) -> int:
    truncate_postgres(url)
    store = Store(url)
    with SlackEmulator() as emu:
        # Slack's chat.postMessage limits, per workspace and per channel (each DM is a
        # channel of its own): bot/emulator/faults.py, docs/deploy.md.
        emu.use_post_message_limits()
        # A reminder round: the reminder job due now in every workspace (the other jobs
        # fall due at their own times).
        teams = provision(store, workspaces, members, datetime.now(UTC), emulator=emu,
                          jobs=("reminder-tick",))
        everyone = {(token_of(team), member_id(n, m))
                    for n, team in enumerate(teams) for m in range(members)}
        # The product's own leases (a test kills a scheduler with 5 s ones to recover fast):
        # a claim must outlast a send that a loaded Slack answers late.
        result = run_round(store, emu, len(everyone), cwd, timeout=1800, lease_seconds=60)
    lost = len(everyone - set(result.dms))
    print(f"round: {workspaces:,} workspaces x {members} members = {len(everyone):,} DMs by "
          f"2 schedulers + remind in {result.seconds:.1f} s; shares "
          + ", ".join(f"{name} {n:,}" for name, n in result.shares.items())
          + f"; duplicates {result.duplicates}, lost {lost}")
    store.dispose()
    return 1 if result.duplicates or lost else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--sizes", help="comma-separated workspace counts")
    parser.add_argument("--round", default="1000x20", help="WORKSPACESxMEMBERS, or 'none'")
    args = parser.parse_args()
    cwd = Path(tempfile.mkdtemp(prefix="impactbot-tenants-"))
    url = args.database_url or f"sqlite:///{cwd / 'tenants.db'}"
    postgres = url.startswith("postgresql")
    default = [1, 10, 100, 1000, 10000] if postgres else [1, 10, 100, 1000]
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else default
    scale(url, sizes, cwd)
    if args.round == "none":
        return 0
    if not postgres:
        print("round: skipped on SQLite (one scheduler is enough there; give --database-url)")
        return 0
    workspaces, members = (int(n) for n in args.round.split("x"))
    return reminder_round(url, workspaces, members, cwd)


if __name__ == "__main__":
    raise SystemExit(main())
