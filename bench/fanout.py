"""Fan-out benchmark: one reminder tick to thousands of members against the emulator.

    PYTHONPATH=. python bench/fanout.py [--members 2000] [--rate 25] [--database URL]

The emulator enforces a workspace-wide chat.postMessage rate (`--rate`, with one second of
burst), 1 message per second per channel, 429 bursts with Retry-After (`--burst-seconds`
every `--burst-every` seconds) and 5xx on a fraction of calls (`--failure-rate`, also on the
history reads the sender makes to check uncertain sends). It prints the elapsed time, the
lower bound those limits imply and the ratio to it, and counts duplicate and lost DMs.

Bound: the workspace bucket admits `rate` messages a second plus `burst` at once, and
nothing during a 429 burst, though it refills meanwhile (up to `burst`). So N messages need
at least (N - burst) / rate plus, for each 429 burst of b seconds, b - min(b, burst / rate).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import SlackEmulator
from bot.initiative.importer import import_file
from bot.reminders.messages import EVENT_TYPE
from bot.reminders.tick import run_tick
from bot.runtime.clock import ManualClock
from bot.runtime.services import Services
from bot.runtime.settings import Settings
from storage.db import Store
from storage.models import ReminderDelivery

AT = datetime(2026, 11, 4, 18, 0, tzinfo=UTC)  # every zone is past its November 1 reminder
ZONES = ("America/Chicago", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin")
PER_PARTNER = 10


def write_initiative(path: Path, members: list[str]) -> None:
    lines = [
        "initiative:",
        "  name: Fan-out bench",
        "  agenda: Remind everyone once.",
        "  timezone: America/Chicago",
        "  admins: [U0ADMIN]",
        "  channels: {backbone: C0BACKBONE, wins: C0WINS}",
        '  reminders: {day: 1, time: "09:00", nudge_after_days: 3, max_nudges: 2}',
        "partners:",
    ]
    keys = []
    for start in range(0, len(members), PER_PARTNER):
        key = f"partner-{start // PER_PARTNER:04d}"
        keys.append(key)
        group = ", ".join(members[start:start + PER_PARTNER])
        lines.append(f"  - {{key: {key}, name: Partner {start // PER_PARTNER}, "
                     f"members: [{group}]}}")
    lines += [
        "measures:",
        "  - key: served",
        "    name: Families served",
        "    unit: families",
        "    cadence: monthly",
        "    aggregate: sum",
        f"    partners: [{', '.join(keys)}]",
    ]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0,
                        help="workspace-wide chat.postMessage limit, messages per second")
    parser.add_argument("--failure-rate", type=float, default=0.05)
    parser.add_argument("--burst-every", type=float, default=20.0)
    parser.add_argument("--burst-seconds", type=float, default=2.0)
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database "
                        "(default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    workdir = Path(tempfile.mkdtemp(prefix="fanout-"))
    url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    store = Store(url)
    store.upgrade()
    members = [f"U{n:08d}" for n in range(args.members)]
    write_initiative(workdir / "initiative.yml", members)

    emu = SlackEmulator().start()
    for n, user in enumerate(members):
        emu.add_user(user, tz=ZONES[n % len(ZONES)])
    for channel in ("C0BACKBONE", "C0WINS"):
        emu.add_channel(channel, name=channel.lower())
    import_file(store, workdir / "initiative.yml", AT)

    burst = max(1, int(args.rate))  # one second's worth: Slack allows short bursts
    emu.set_rate_limit("chat.postMessage", per_second=args.rate, burst=burst,
                       per_channel_per_second=1.0)
    emu.set_failure_rate("chat.postMessage", args.failure_rate, status=500, seed=1)
    emu.set_failure_rate("conversations.history", args.failure_rate, status=503, seed=2)

    settings = Settings(bot_token=emu.bot_token, api_url=emu.api_url, database_url=url)
    services = Services(settings, store, ManualClock(AT))

    bursts: list[float] = []
    stop = threading.Event()

    def throttle() -> None:
        while not stop.wait(args.burst_every):
            emu.rate_limit_burst("chat.postMessage", args.burst_seconds)
            bursts.append(args.burst_seconds)

    def progress(done: int, total: int) -> None:
        if done % max(1, total // 10) == 0 or done == total:
            print(f"  {done}/{total} DMs handled, {time.monotonic() - started:.0f}s",
                  flush=True)

    print(f"Fan-out to {args.members} members: workspace limit {args.rate:g}/s (burst "
          f"{burst}), 1/s per channel, {args.burst_seconds:g}s of 429s every "
          f"{args.burst_every:g}s, {args.failure_rate:.0%} 5xx; database {store.dialect}")
    started = time.monotonic()
    threading.Thread(target=throttle, daemon=True).start()
    result = run_tick(services, services.client(), AT, rate=args.rate, burst=burst,
                      progress=progress)
    elapsed = time.monotonic() - started
    stop.set()

    per_user: Counter[str] = Counter()
    for user in members:
        per_user[user] = sum(1 for m in emu.messages_to_user(user)
                             if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE)
    duplicates = sum(n - 1 for n in per_user.values() if n > 1)
    lost = sum(1 for n in per_user.values() if n == 0)
    with store.session() as session:
        unrecorded = session.scalar(select(func.count()).select_from(ReminderDelivery)
                                    .where(ReminderDelivery.sent_at.is_(None)))
    calls = Counter(c.status for c in emu.calls_to("chat.postMessage"))
    lost_to_bursts = sum(b - min(b, burst / args.rate) for b in bursts)
    bound = (args.members - burst) / args.rate + lost_to_bursts
    emu.stop()
    store.dispose()

    print(result.summary())
    print(f"chat.postMessage answers: {dict(sorted(calls.items()))}; history checks: "
          f"{len(emu.calls_to('conversations.history'))}; 429 bursts: {len(bursts)} "
          f"({sum(bursts):g}s)")
    print(f"elapsed        {elapsed:8.1f} s")
    print(f"bound          {bound:8.1f} s  = ({args.members} - {burst}) / {args.rate:g} "
          f"+ {lost_to_bursts:g}s lost to 429 bursts")
    print(f"ratio          {elapsed / bound:8.2f}")
    print(f"duplicates     {duplicates:8d}")
    print(f"lost           {lost:8d}  (unrecorded claims: {unrecorded})")
    ok = duplicates == 0 and lost == 0 and elapsed / bound <= 1.2
    print("GOAL MET" if ok else "GOAL MISSED: want 0 duplicates, 0 lost, ratio <= 1.2")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
