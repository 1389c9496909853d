"""Benchmark: what 200 partners × 100 measures owe (20,000 assignments), SQLite and PostgreSQL.

    PYTHONPATH=. python bench/obligations.py [--postgres URL] [--repeat 7]

The store (tests/support/scale.py, written straight into the database): every partner
assigned every measure, each assignment reported, corrected, skipped or owed for its
reporting period, and the 24 periods before it reported too. Prints, for `obligations()` (what
`/impact status`, the App Home and the report modal ask) and for the reminder tick's read
(`load_facts`, with 2,000 members), the median, best and first time and the SQL statements.
Goal: obligations in ≤ 100 ms on both databases, in a fixed number of statements.

PostgreSQL: give a scratch database; its tables are emptied first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import analyze, scratch_store  # noqa: E402
from bot.measures.obligations import obligations  # noqa: E402
from bot.reminders.facts import load_facts  # noqa: E402
from bot.runtime.caller import load_initiative  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.support.scale import MEASURES, PARTNERS, seed  # noqa: E402
from tests.support.world import NOW  # noqa: E402

MEMBERS_PER_PARTNER = 10
HISTORY = 24  # earlier periods reported by every partner: 480,000 more reports
GOAL_SECONDS = 0.100


def timed(store: Store, repeat: int, work: Callable[[Any], int]
          ) -> tuple[list[float], list[float], int, int]:
    """Wall and CPU times of `repeat` runs of work(session), the statements of one run, its
    result. (This process's CPU time does not count a busy machine's waits; on SQLite it is
    the whole work, on PostgreSQL all but the server's.)"""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is not a query
            statements.append(statement)

    times, cpu, size = [], [], 0
    for _ in range(repeat):
        statements.clear()
        event.listen(store.engine, "before_cursor_execute", count)
        started, started_cpu = time.perf_counter(), time.process_time()
        with store.session() as session:
            size = work(session)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        event.remove(store.engine, "before_cursor_execute", count)
    return times, cpu, len(statements), size


def report(label: str, what: str, times: list[float], cpu: list[float], statements: int,
           size: str) -> None:
    print(f"{label}: {what}: {statistics.median(times) * 1000:.0f} ms median, "
          f"{min(times) * 1000:.0f} ms best, {times[0] * 1000:.0f} ms first (of {len(times)}), "
          f"{statistics.median(cpu) * 1000:.0f} ms CPU of this process (median); "
          f"{statements} SQL statements; {size}")


def run(label: str, url: str, repeat: int) -> bool:
    store = scratch_store(url)
    started = time.perf_counter()
    members = {p: [f"U{p:04d}{n:02d}" for n in range(MEMBERS_PER_PARTNER)]
               for p in range(PARTNERS)}
    seed(store, NOW, members=members, history=HISTORY)
    analyze(store)
    print(f"{label}: {PARTNERS} partners × {MEASURES} measures = {PARTNERS * MEASURES:,} "
          f"assignments, {PARTNERS * MEMBERS_PER_PARTNER:,} members, {HISTORY} periods of "
          f"history "
          f"(filled in {time.perf_counter() - started:.1f} s)")

    def owed(session: Any) -> int:
        initiative = load_initiative(session)
        return len(obligations(session, initiative, NOW))

    def facts(session: Any) -> int:
        initiative = load_initiative(session)
        return len(load_facts(session, initiative, NOW).members)

    times, cpu, statements, size = timed(store, repeat, owed)
    report(label, "obligations()", times, cpu, statements - 1, f"{size:,} obligations "
           "(statements without the initiative's own)")
    ok = statistics.median(times) <= GOAL_SECONDS
    f_times, f_cpu, f_statements, f_size = timed(store, repeat, facts)
    report(label, "reminder facts", f_times, f_cpu, f_statements - 1,
           f"{f_size:,} members owing")
    store.dispose()
    print(f"{label}: goal obligations ≤ {GOAL_SECONDS * 1000:.0f} ms (median): "
          f"{'met' if ok else 'NOT met'}; load average {os.getloadavg()[0]:.1f}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ok = run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.repeat)
    if args.postgres:
        ok = run("PostgreSQL", args.postgres, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
