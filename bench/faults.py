"""The fault run: PostgreSQL connections killed every 0.2 s for 60 s while 120 win
reactions and 300 reports arrive (issue 14). Prints what was lost, duplicated or told
falsely — all three should be 0 — and how often the connections were killed.

The app runs in-process (the test sandbox: the real app on loopback against the Slack
emulator) on a scratch PostgreSQL database whose tables it empties first.

    python bench/faults.py --database postgresql+psycopg://postgres@127.0.0.1:5432/DB
                           [--seconds 60] [--reactions 120] [--reports 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.sandbox import Sandbox  # noqa: E402
from tests.support.databases import truncate_postgres  # noqa: E402
from tests.support.fault_run import fault_run  # noqa: E402
from tests.support.world import NOW, import_example, populate_world  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a scratch PostgreSQL database URL")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--reactions", type=int, default=120)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--kill-every", type=float, default=0.2)
    args = parser.parse_args()

    started = time.perf_counter()
    with Sandbox(args.database, now=NOW) as sandbox:  # migrates the database first
        truncate_postgres(args.database)
        populate_world(sandbox)
        import_example(sandbox.store)
        figures = fault_run(sandbox, seconds=args.seconds, reactions=args.reactions,
                            reports=args.reports, kill_every=args.kill_every)
    print(f"fault run: connections killed every {args.kill_every} s for {args.seconds:.0f} s "
          f"({time.perf_counter() - started:.0f} s in all)")
    for line in figures.lines():
        print(f"  {line}")
    ok = (figures.wins_lost, figures.reports_lost, figures.reports_duplicated,
          figures.told_false) == (0, 0, 0, 0)
    print("goal: 0 wins lost, 0 reports lost or duplicated, 0 told something false: "
          + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
