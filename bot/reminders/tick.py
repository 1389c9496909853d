"""The reminder tick: who is due a DM at an instant, and sending each of those DMs once.

`run_tick` is the whole of it; `impactbot remind` and the scheduler's `reminder-tick` job
both call it. Decisions and recorded times use the tick's instant; only claim leases use
real time (see docs/reminders.md for the exactly-once guarantee).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO, TypedDict
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.measures.periods import local_date
from bot.reminders import deliveries
from bot.reminders.facts import load_facts
from bot.reminders.fanout import Outbound, Outcome, Sender, bare_client, wall_clock
from bot.reminders.messages import reminder_message
from bot.reminders.plan import PlannedDM, plan
from bot.reminders.timezones import member_zones
from bot.runtime.caller import load_initiative
from bot.runtime.errors import UserError
from bot.runtime.executor import ContextExecutor
from bot.runtime.pacing import DEFAULT_LIMITS, PostLimits
from bot.runtime.services import Services
from storage.tenancy import current_scope

log = logging.getLogger(__name__)

RATE_ENV = "IMPACTBOT_REMINDER_RATE"  # messages per second, workspace-wide
LEASE_ENV = "IMPACTBOT_REMINDER_LEASE_SECONDS"
DEFAULT_LEASE = timedelta(seconds=60)
WORKERS = 8
PROGRESS_EVERY = 5.0  # seconds between progress lines
BUSY_POLL = 0.2  # seconds between looks at DMs another sender is holding

Progress = Callable[[int, int], None]


@dataclass
class TickResult:
    now: datetime
    dry_run: bool
    planned: list[PlannedDM] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.outcomes if o.status in statuses)

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def failed(self) -> int:
        return self.count("failed", "deferred", "given_up", "lost", "busy")

    def summary(self) -> str:
        when = self.now.strftime("%Y-%m-%dT%H:%MZ")
        if self.dry_run:
            return (f"Dry run as of {when}: {len(self.planned)} DM(s) would be sent; "
                    f"{len(self.paused)} paused member(s) skipped. Nothing was sent.")
        return (f"Reminders as of {when}: {len(self.planned)} due, {self.sent} sent, "
                f"{self.count('already')} already sent, {self.count('found')} found already "
                f"posted, {self.failed} not delivered (retried next tick); "
                f"{len(self.paused)} paused member(s) skipped; {self.elapsed:.1f}s.")


def run_tick(services: Services, client: WebClient | None, now: datetime,
             dry_run: bool = False, *, rate: float | None = None, burst: int | None = None,
             lease: timedelta | None = None, workers: int = WORKERS,
             progress: Progress | None = None) -> TickResult:
    """One reminder tick as of `now`. Safe to run twice, late, or in two processes at once."""
    started = time.monotonic()
    store = services.store
    result = TickResult(now, dry_run)
    with store.session() as session:
        initiative = load_initiative(session)
        if initiative is None:
            return result
        facts = load_facts(session, initiative, now)
    fallback = ZoneInfo(initiative.timezone)
    result.planned, result.paused = plan(
        facts, now, lambda users: member_zones(store, client, users, now, fallback))
    if dry_run or not result.planned:
        result.elapsed = time.monotonic() - started
        return result
    if client is None:
        raise UserError("SLACK_BOT_TOKEN is not set: sending reminders needs the bot token")

    lease = lease or DEFAULT_LEASE
    # The workspace's pacer (Slack's chat.postMessage pace; `rate`/`burst` override it).
    limits = PostLimits(rate or DEFAULT_LIMITS.per_second, burst or DEFAULT_LIMITS.burst,
                        DEFAULT_LIMITS.channel_interval)
    sender = Sender(store=store, poster=bare_client(client, _send_timeout(lease)), reader=client,
                    pacer=services.pacers.for_team(current_scope(), limits), now=now,
                    lease=lease)
    outbound = [Outbound(dm.key, dm.user_id, dm.nudge, dm.item_dicts(),
                         reminder_message(dm.partner_name, list(dm.items), dm.nudge, dm.key,
                                          facts.peers, today=local_date(now, fallback)))
                for dm in result.planned]
    result.outcomes = _fan_out(sender, outbound, workers, progress)
    result.elapsed = time.monotonic() - started
    log.info("%s", result.summary())
    return result


def _send_timeout(lease: timedelta) -> int:
    # An attempt starts only on a freshly renewed lease and must end well inside it.
    return max(1, int(lease.total_seconds() / 3))


def _fan_out(sender: Sender, outbound: list[Outbound], workers: int,
             progress: Progress | None) -> list[Outcome]:
    total, done = len(outbound), 0
    outcomes: dict[str, Outcome] = {}
    # The workers claim and record in the current workspace's tenant: the pool carries it.
    with ContextExecutor(max_workers=max(1, min(workers, total)),
                         thread_name_prefix="reminder") as pool:
        for outcome in pool.map(sender.send_once, outbound):
            outcomes[outcome.key] = outcome
            done += 1
            if progress is not None:
                progress(done, total)
    busy = [o for o in outbound if outcomes[o.key].status == "busy"]
    if busy:
        # Another sender holds these: wait until it records them, or until its lease runs
        # out (it died) and they are ours to check and send.
        for outcome in _settle_busy(sender, busy):
            outcomes[outcome.key] = outcome
    return [outcomes[o.key] for o in outbound]


def _settle_busy(sender: Sender, busy: list[Outbound]) -> list[Outcome]:
    deadline = wall_clock() + sender.lease + timedelta(seconds=5)
    results: list[Outcome] = []
    pending = busy
    while pending:
        waiting = []
        for out in pending:
            sent_at, lease_until = deliveries.lease_state(sender.store, out.key)
            if sent_at is not None:
                results.append(Outcome(out.key, "already"))
            elif lease_until is None or lease_until <= sender.clock():
                outcome = sender.send_once(out)
                if outcome.status == "busy":
                    waiting.append(out)
                else:
                    results.append(outcome)
            else:
                waiting.append(out)
        if waiting and wall_clock() > deadline:
            results.extend(Outcome(o.key, "busy") for o in waiting)
            break
        if waiting:
            sender.sleep(BUSY_POLL)
        pending = waiting
    return results


# --- the scheduler's job ------------------------------------------------------------------


class TickOptions(TypedDict, total=False):
    rate: float
    lease: timedelta


def tick_options() -> TickOptions:
    """Operator overrides from the environment (send rate, lease seconds), checked."""
    options = TickOptions()
    rate, lease = _positive(RATE_ENV), _positive(LEASE_ENV)
    if rate is not None:
        options["rate"] = rate
    if lease is not None:
        options["lease"] = timedelta(seconds=lease)
    return options


def _positive(name: str) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UserError(f"{name} must be a positive number, not {text!r}")
    return value


def reminder_tick(services: Services) -> None:
    """The scheduled job (bot/runtime/scheduler.py)."""
    run_tick(services, services.client(), services.clock.now(), **tick_options())


# --- impactbot remind ---------------------------------------------------------------------


NO_TOKEN = ("SLACK_BOT_TOKEN is not set: posting needs the bot token (in multi-workspace "
            "mode, name the workspace with --team TEAM_ID)")


def run_remind_command(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    dry_run = bool(getattr(args, "dry_run", False))
    client = services.client() if services.can_post() else None
    if client is None and not dry_run:
        raise UserError(NO_TOKEN + " (or use --dry-run)")
    reporter = _ProgressLine(sys.stderr)
    # The command prints its own report; the same summary as a log line would say it twice.
    quiet = logging.getLogger(__name__)
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    try:
        result = run_tick(services, client, now, dry_run, progress=reporter, **tick_options())
    finally:
        quiet.setLevel(level)
    out = sys.stdout
    if dry_run:
        for dm in result.planned:
            kind = "reminder" if dm.nudge == 0 else f"nudge {dm.nudge}"
            listing = ", ".join(f"{i.measure_key} {i.period} (due {i.due:%Y-%m-%d})"
                                for i in dm.items)
            print(f"{dm.user_id}\t{kind}\t{dm.partner_name}: {listing}", file=out)
    for user_id in result.paused:
        print(f"{user_id}\tpaused: skipped", file=out)
    print(result.summary(), file=out)
    return 1 if result.failed else 0


class _ProgressLine:
    """`reminders: 1200/2000 (60%), 40s, about 27s left` every few seconds on long runs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = self.started
        self.printed = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done != total:
            return
        if done == total and not self.printed:
            return  # a short run needs no progress line
        self.last = now
        elapsed = now - self.started
        left = elapsed / done * (total - done) if done else 0.0
        line = (f"reminders: {done}/{total} ({done * 100 // total}%), {elapsed:.0f}s, "
                f"about {left:.0f}s left")
        print(line, file=self.stream, flush=True)
        self.printed = True
