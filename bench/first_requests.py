"""500 installed workspaces send their first request at the same moment (a restart in
multi-workspace mode): prints errors and the ack times (p50, p99, max).

In-process: the Sandbox's app and Slack emulator on loopback, on SQLite (a temporary
file) or PostgreSQL (--database-url, an empty or migrated database of its own).

    python bench/first_requests.py [--workspaces 500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.sandbox import Sandbox  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from tests.support.first_requests import burst, install_many  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='impactbot-first-')) / 'first.db'}")
    settings = Settings(client_id="set-by-sandbox", client_secret="x")
    with Sandbox(url, now=datetime.now(UTC), settings=settings, upgrade=True) as sandbox:
        teams = install_many(sandbox, args.workspaces)
        replies = burst(sandbox, teams)
        sandbox.settle(timeout=300)
    errors = [r.status for r in replies if r.status != 200]
    acks = sorted(r.elapsed * 1000 for r in replies)
    p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
    print(f"{sandbox.store.dialect}: {len(replies)} first requests at once, "
          f"{len(errors)} errors; ack p50 {statistics.median(acks):.0f} ms, "
          f"p99 {p99:.0f} ms, max {acks[-1]:.0f} ms")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
