"""A reminder round across many workspaces, sent by real `impactbot scheduler` processes
(and one `impactbot remind`) sharing one PostgreSQL: what each member received, what each
process sent, and how long it took. Used by tests/scenarios/test_schedulers_share.py and
bench/tenants.py."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select

from bot.emulator import SlackEmulator
from storage.db import Store
from storage.models import DueWork
from tests.support.many_workspaces import CLIENT_ID
from tests.support.processes import BotProcess

SENT = re.compile(r"Reminders as of \S+: \d+ due, (\d+) sent")
REMIND_SENT = re.compile(r"Reminders in \d+ workspace\(s\) where they were due: (\d+) sent")


@dataclass
class Round:
    dms: Counter[tuple[str, str]] = field(default_factory=Counter)  # (token, user) -> DMs
    shares: dict[str, int] = field(default_factory=dict)  # process -> DMs it reported sent
    seconds: float = 0.0

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.dms.values() if n > 1)


def environment(database_url: str, emu: SlackEmulator, *,
                lease_seconds: float = 5) -> dict[str, str]:
    env = {**os.environ, "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "x",
           "SLACK_SIGNING_SECRET": "round-secret", "SLACK_API_URL": emu.api_url,
           "DATABASE_URL": database_url, "LOG_LEVEL": "INFO",
           "IMPACTBOT_TICK_SECONDS": "1",
           "IMPACTBOT_DUE_LEASE_SECONDS": str(lease_seconds),
           "IMPACTBOT_REMINDER_LEASE_SECONDS": str(lease_seconds)}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "INITIATIVE_FILE"):
        env.pop(name, None)
    return env


def delivered(emu: SlackEmulator) -> Counter[tuple[str, str]]:
    return Counter((c.token or "", str(c.params.get("channel")))
                   for c in emu.calls_to("chat.postMessage")
                   if c.status == 200 and c.response.get("ok"))


def until(emu: SlackEmulator, count: int, timeout: float) -> bool:
    """Wait until `count` DMs have arrived. Counting walks every call the emulator kept, so
    it is done twice a second, not after each of tens of thousands of calls (the emulator
    evaluates a `wait_for` predicate under its lock after every request)."""
    deadline = time.monotonic() + timeout
    while sum(delivered(emu).values()) < count:
        if time.monotonic() > deadline:
            return False
        emu.wait_for(lambda e: False, 0.5)
    return True


def quiet(store: Store) -> bool:
    """No reminder work leased or due: every process has finished its share."""
    with store.engine.connect() as connection:
        busy = connection.scalar(select(func.count()).select_from(DueWork).where(
            DueWork.job == "reminder-tick",
            or_(DueWork.lease_until.is_not(None), DueWork.due_at <= func.now())))
    return not busy


def shares(process: BotProcess, pattern: re.Pattern[str] = SENT) -> int:
    """What a process has said it sent, so far (all of it, once it has ended)."""
    return sum(int(m.group(1)) for line in list(process.transcript)
               if (m := pattern.search(line)) is not None)


def _ended(process: BotProcess) -> BotProcess:
    process.all_lines()  # waits for the process and for its last line to be read
    return process


def run_round(store: Store, emu: SlackEmulator, expected: int, cwd: Path, *,
              kill_after: int | None = None, timeout: float = 300,
              lease_seconds: float = 5) -> Round:
    """Two schedulers and one `remind`, started together; with `kill_after`, scheduler A
    is SIGKILLed once that many DMs went out, and started again."""
    env = environment(store.url, emu, lease_seconds=lease_seconds)
    started = time.monotonic()
    procs = {"scheduler A": BotProcess(["scheduler"], env, cwd),
             "scheduler B": BotProcess(["scheduler"], env, cwd)}
    result = Round()
    try:
        # `remind` starts as soon as both schedulers are up (Python's start-up takes a few
        # seconds on a busy machine; remind, which needs no scheduler, would be first by
        # that much and could take the whole round before they join).
        for name in ("scheduler A", "scheduler B"):
            procs[name].wait_for("scheduler started", timeout=120)
        procs["remind"] = BotProcess(["remind"], env, cwd, with_stdout=True)
        if kill_after is not None:
            assert until(emu, kill_after, timeout)
            procs["scheduler A"].process.kill()
            result.shares["scheduler A (killed)"] = shares(_ended(procs["scheduler A"]))
            procs["scheduler A"] = BotProcess(["scheduler"], env, cwd)
        assert until(emu, expected, timeout), \
            f"only {sum(delivered(emu).values())} of {expected} DMs arrived"
        result.seconds = time.monotonic() - started
        deadline = time.monotonic() + timeout
        # Every process has finished its share once no reminder work is leased or due:
        # poll the database, waking at each Slack call the processes still make.
        while not quiet(store):
            assert time.monotonic() < deadline, "the schedulers never finished"
            emu.wait_for(lambda e: False, 0.2)
        procs["remind"].process.wait(timeout)
        # A tick whose workspace another process took over (its lease ran out on a slow
        # machine) may still be finishing when the work is quiet: wait for every tick to
        # say what it sent before the schedulers are stopped. (A killed process never
        # says all of it, so not with `kill_after`.)
        while kill_after is None and sum(
                shares(proc, REMIND_SENT if name == "remind" else SENT)
                for name, proc in procs.items()) < expected:
            if time.monotonic() > deadline:
                break
            emu.wait_for(lambda e: False, 0.2)
    finally:
        for proc in procs.values():
            proc.stop()
    for name, proc in procs.items():
        pattern = REMIND_SENT if name == "remind" else SENT
        result.shares[name] = result.shares.get(name, 0) + shares(_ended(proc), pattern)
    result.dms = delivered(emu)
    return result
