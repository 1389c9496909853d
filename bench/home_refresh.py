"""A report from a big partner: how fast is the reporter answered, and what does the App
Home refresh cost afterwards?

The real app in-process against the Slack emulator (the test sandbox, with the product's
own background worker and debounce). A partner of `--members` members, `--viewers` of
whom have opened their Home tab; `--reports` reports in a row from one member, each
waiting for its confirmation. Prints, per report, the ack time and the ack+confirm time
(until the confirmation reaches Slack's response_url) with the SQL statements run until
then, and afterwards the views.publish calls the background refresh made (goal: each
viewer's Home once, nobody else's).

    PYTHONPATH=. python bench/home_refresh.py [--members 200] [--viewers 50] [--reports 10]
                                              [--database URL]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.sandbox import Sandbox  # noqa: E402
from bot.runtime.background import Background  # noqa: E402
from storage.models import Member, Partner  # noqa: E402
from tests.support.world import NOW, import_example, populate_world  # noqa: E402

GOAL = "goal: ack+confirm ≤ 100 ms for a 200-member partner; one publish per viewer"
MEASURES = ("prenatal-visits", "home-visits")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database "
                        "(default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='home-')) / 'bench.db'}"

    with Sandbox(url, now=NOW) as sandbox:
        populate_world(sandbox)
        import_example(sandbox.store)
        # The product's own worker: woken after each confirmation, debounced.
        sandbox.services.background = Background()
        members = ["U0AAA", "U0BBB", *(f"U0M{n:05d}" for n in range(args.members - 2))]
        with sandbox.store.session() as session:
            health = session.scalar(select(Partner.id).where(Partner.key == "county-health"))
            session.execute(insert(Member), [{"partner_id": health, "user_id": user}
                                             for user in members[2:]])
        viewers = members[:args.viewers]
        for user in viewers:
            sandbox.emulator.add_user(user, real_name=f"Member {user}")
            sandbox.driver.app_home_opened(user)
        sandbox.settle(timeout=300)
        emu = sandbox.emulator
        emu.clear_calls()

        statements = [0]
        lock = threading.Lock()

        def count(*_args: Any) -> None:
            with lock:
                statements[0] += 1

        event.listen(sandbox.store.engine, "before_cursor_execute", count)
        acks, confirms, per_report, published_early = [], [], [], 0
        started = time.monotonic()
        for n in range(args.reports):
            statements[0] = 0
            told = len(emu.response_posts)
            t0 = time.monotonic()
            reply = sandbox.driver.command("U0AAA", f"report {MEASURES[n % 2]} {60 + n}")
            assert emu.wait_for(lambda e, told=told: len(e.response_posts) > told, 10)
            confirms.append(time.monotonic() - t0)
            acks.append(reply.elapsed)
            sandbox.executor.wait_idle()  # the confirming listener has finished
            per_report.append(statements[0])
            published_early += len(emu.calls_to("views.publish"))
        reporting = time.monotonic() - started
        sandbox.settle(timeout=300)
        refreshed = time.monotonic() - started - reporting
        event.remove(sandbox.store.engine, "before_cursor_execute", count)

        publishes = [c.params["user_id"] for c in emu.calls_to("views.publish")]
        print(f"{args.reports} reports from a partner of {args.members} members, "
              f"{args.viewers} of them with the Home open; database {sandbox.store.dialect}")
        print(f"  ack:          p50 {_ms(statistics.median(acks))}, max {_ms(max(acks))}")
        print(f"  ack+confirm:  p50 {_ms(statistics.median(confirms))}, "
              f"max {_ms(max(confirms))}")
        print(f"  SQL statements per report until confirmed (all threads): "
              f"{sorted(set(per_report))}")
        print(f"  views.publish while the reports were confirmed: {published_early}")
        print(f"  views.publish afterwards: {len(publishes)} for {len(set(publishes))} "
              f"people ({len(set(publishes) - set(viewers))} who never opened the Home), "
              f"{refreshed:.2f}s after the last confirmation")
        print(GOAL)
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
