"""Fan-out benchmark: one reminder round to N members, through the product's own path.

    PYTHONPATH=. python bench/fanout.py [--members 2000] [--zones warm|cold]
                                        [--failure-rate 0] [--burst-every 0] [--database URL]

The scheduler's reminder tick (`scheduler.run_due_now(..., only={"reminder-tick"})`: the
plan, the time-zone look-ups, a claim per DM, the workspace's pacer at the pace the
product uses — `IMPACTBOT_REMINDER_RATE` if set, else bot/runtime/pacing.py's
`DEFAULT_LIMITS`) against the emulator enforcing Slack's chat.postMessage limits (per
workspace and per channel, 429 with Retry-After: `SlackEmulator.use_post_message_limits`)
and Slack's tiers for the other methods (users.info: Tier 4, 100 a minute).

The instant is 12:00 UTC on the reminder day, when 09:00 has passed in some zones on Earth
and not in others, so every member's zone matters; every member is in a zone where it has
passed. `--zones warm`: zones cached from an earlier day (no users.info call); `cold`: none
cached, so Slack is asked about each member (users.info, Tier 4) before the DMs go.

Prints the time, messages per second, the least time the pace allows
(`PostLimits.seconds_for`) and the ratio to it, 429s, duplicates and lost DMs, and what a
round of 10,000 DMs takes at this pace.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import SlackEmulator  # noqa: E402
from bot.initiative.importer import import_file  # noqa: E402
from bot.reminders.messages import EVENT_TYPE  # noqa: E402
from bot.reminders.tick import tick_options  # noqa: E402
from bot.runtime import scheduler  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from bot.runtime.pacing import DEFAULT_LIMITS, PostLimits  # noqa: E402
from bot.runtime.services import Services  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.models import SlackUser  # noqa: E402

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the December 1 reminder, 09:00 local
ZONES = ("Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")  # all past 09:00
PER_PARTNER = 10
ROUND = 10_000


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


def the_pace() -> PostLimits:
    """The pace the product's tick will use (the operator's rate, if set)."""
    rate = tick_options().get("rate")
    return PostLimits(per_second=rate) if rate else DEFAULT_LIMITS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--zones", choices=("warm", "cold"), default="warm")
    parser.add_argument("--failure-rate", type=float, default=0.0,
                        help="share of chat.postMessage and history calls failing with 5xx")
    parser.add_argument("--burst-every", type=float, default=0.0,
                        help="seconds between 2-second bursts of 429s (0: none)")
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
    import_file(store, workdir / "initiative.yml", AT - timedelta(days=40))
    if args.zones == "warm":  # what an earlier day's look-ups left in the cache
        with store.engine.begin() as connection:
            connection.execute(insert(SlackUser), [
                dict(user_id=user, tz=ZONES[n % len(ZONES)], real_name=None, is_bot=False,
                     fetched_at=AT - timedelta(days=1)) for n, user in enumerate(members)])
    emu.use_post_message_limits()
    emu.use_tiers({"users.info": 4, "conversations.open": 3, "conversations.history": 3},
                  burst=10)
    if args.failure_rate:
        emu.set_failure_rate("chat.postMessage", args.failure_rate, status=500, seed=1)
        emu.set_failure_rate("conversations.history", args.failure_rate, status=503, seed=2)

    settings = Settings(bot_token=emu.bot_token, api_url=emu.api_url, database_url=url)
    services = Services(settings, store, ManualClock(AT))
    pace = the_pace()
    stop = threading.Event()

    def throttle() -> None:
        while args.burst_every and not stop.wait(args.burst_every):
            emu.rate_limit_burst("chat.postMessage", 2.0)

    def progress() -> None:
        while not stop.wait(10.0):
            sent = sum(1 for c in emu.calls_to("chat.postMessage") if c.status == 200)
            print(f"  {sent}/{args.members} DMs sent, {time.monotonic() - started:.0f}s",
                  flush=True)

    print(f"Reminder round to {args.members} members through the scheduler's tick; zones "
          f"{args.zones}; product pace {pace.per_second * 60:g}/min per workspace (bursts of "
          f"{pace.burst}), 1 per {pace.channel_interval:g}s per DM; emulator: Slack's "
          f"chat.postMessage limits, users.info Tier 4; database {store.dialect}")
    started = time.monotonic()
    for target in (throttle, progress):
        threading.Thread(target=target, daemon=True).start()
    scheduler.run_due_now(services, only={"reminder-tick"})
    elapsed = time.monotonic() - started
    stop.set()

    per_user: Counter[str] = Counter()
    for user in members:
        per_user[user] = sum(1 for m in emu.messages_to_user(user)
                             if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE)
    duplicates = sum(n - 1 for n in per_user.values() if n > 1)
    lost = sum(1 for n in per_user.values() if n == 0)
    answers = Counter(c.status for c in emu.calls_to("chat.postMessage"))
    lookups = len(emu.calls_to("users.info"))
    sent = answers.get(200, 0)
    bound = pace.seconds_for(args.members)
    emu.stop()
    store.dispose()

    print(f"chat.postMessage answers: {dict(sorted(answers.items()))}; users.info calls: "
          f"{lookups}")
    print(f"elapsed        {elapsed:8.1f} s   for {args.members} members")
    print(f"rate           {sent / elapsed:8.2f} messages/s")
    print(f"pace bound     {bound:8.1f} s   = ({args.members} - {pace.burst}) / "
          f"{pace.per_second:g} per second")
    print(f"ratio          {elapsed / bound if bound else 0:8.2f}  (time / pace bound)")
    print(f"duplicates     {duplicates:8d}")
    print(f"lost           {lost:8d}")
    ratio = elapsed / bound if bound else 1.0
    print(f"a round of {ROUND:,} DMs at this pace: {pace.seconds_for(ROUND) / 60:.1f} min "
          f"(at this run's ratio to the bound: {pace.seconds_for(ROUND) * ratio / 60:.1f} min)")
    ok = duplicates == 0 and lost == 0
    print("OK" if ok else "FAILED: want 0 duplicates and 0 lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
