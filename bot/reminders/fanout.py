"""Sending many DMs within Slack's limits, each exactly once.

The workspace's `Pacer` (bot/runtime/pacing.py) spaces sends at Slack's pace — per
workspace and per DM channel — and stops everyone when Slack answers 429 (Retry-After
applies to the app, not to the one thread that heard it). `send_once` takes
the DM's claim, posts it with the dedupe key in its metadata, and records the answer. When
an attempt's outcome is unknown (5xx, timeout, dropped connection, or an expired claim left
by a dead process) it first looks in the DM's recent history for the key, and only sends if
the DM is not there.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.exactly_once import REAL_TIME, find_marked
from bot.reminders import deliveries
from bot.reminders.deliveries import Claim, ClaimRefused
from bot.reminders.messages import EVENT_TYPE
from bot.runtime.pacing import Pacer
from storage.db import Store

log = logging.getLogger(__name__)

TRIES_PER_TICK = 6  # attempts that failed (5xx, timeouts) before leaving it to next tick
RATE_LIMITED_TRIES = 30  # 429s waited out for one DM in one tick
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
HISTORY_LIMIT = 100


def wall_clock() -> datetime:
    return REAL_TIME.now()


@dataclass(frozen=True)
class Outbound:
    key: str
    user_id: str
    nudge: int
    items: list[dict[str, Any]]
    message: dict[str, Any]  # text, blocks, metadata


@dataclass(frozen=True)
class Outcome:
    key: str
    status: Literal["sent", "found", "already", "busy", "deferred", "failed", "given_up",
                    "lost"]
    lease_until: datetime | None = None
    error: str | None = None


@dataclass
class Sender:
    store: Store
    poster: WebClient  # no automatic retries: every retry here is a decision
    reader: WebClient  # reads may be retried freely (history, conversations.open)
    pacer: Pacer
    now: datetime  # the tick's instant: what is recorded
    lease: timedelta = timedelta(seconds=60)
    clock: Callable[[], datetime] = wall_clock  # real time: for leases only
    sleep: Callable[[float], None] = time.sleep

    def send_once(self, out: Outbound) -> Outcome:
        taken = deliveries.claim(self.store, key=out.key, user_id=out.user_id,
                                 nudge=out.nudge, items=out.items, now=self.now,
                                 wall=self.clock(), lease=self.lease)
        if isinstance(taken, ClaimRefused):
            status = "already" if taken.reason == "sent" else taken.reason
            return Outcome(out.key, status, taken.lease_until)
        return self._deliver(out, taken)

    def _deliver(self, out: Outbound, c: Claim) -> Outcome:
        uncertain = c.uncertain
        error = "no attempt"
        attempt = rate_limited = 0
        while attempt < TRIES_PER_TICK and rate_limited < RATE_LIMITED_TRIES:
            attempt += 1
            if uncertain:
                try:
                    found = self.find_posted(out.user_id, out.key)
                except _Unknown as exc:
                    error = str(exc)
                    self._backoff(attempt)
                    continue
                if found is not None:
                    deliveries.record_sent(self.store, c, now=self.now, channel=found[0],
                                           ts=found[1])
                    log.info("reminder %s was already in the DM; recorded, not resent", out.key)
                    return Outcome(out.key, "found")
                uncertain = False  # not there: sending is safe until something goes wrong
            self.pacer.wait_turn(out.user_id)  # the DM with this person: its own channel
            # Never start a send on a lease that could run out before Slack answers.
            if not deliveries.renew(self.store, c, wall=self.clock(), lease=self.lease):
                log.warning("lost the claim on %s; another sender has it", out.key)
                return Outcome(out.key, "lost")
            try:
                response = self.poster.chat_postMessage(channel=out.user_id, **out.message)
            except SlackApiError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                code = str(exc.response.get("error")) if exc.response is not None else "?"
                if status == 429:
                    retry_after = _retry_after(exc)
                    log.info("Slack asked us to wait %ss (429); pausing all sends", retry_after)
                    self.pacer.hold_off(retry_after)
                    error = "ratelimited"
                    # A 429 was refused (nothing posted) and is not a failed attempt.
                    attempt, rate_limited = attempt - 1, rate_limited + 1
                    continue
                if status >= 500:
                    self.pacer.refund()
                    uncertain, error = True, f"http {status}"
                    self._backoff(attempt)
                    continue
                # Slack said no (user gone, not allowed...): retrying now would not help.
                deliveries.release(self.store, c, error=code,
                                   retry_at=self.clock() + timedelta(hours=1))
                log.warning("reminder %s to %s refused by Slack: %s", out.key, out.user_id, code)
                return Outcome(out.key, "failed", error=code)
            except (OSError, TimeoutError) as exc:
                uncertain, error = True, type(exc).__name__
                self._backoff(attempt)
                continue
            channel, ts = str(response.get("channel") or ""), str(response.get("ts") or "")
            if not deliveries.record_sent(self.store, c, now=self.now, channel=channel, ts=ts):
                log.error("reminder %s was sent but its claim had been taken over", out.key)
            return Outcome(out.key, "sent")
        deliveries.release(self.store, c, error=error, retry_at=self.clock())
        return Outcome(out.key, "failed", error=error)

    def _backoff(self, attempt: int) -> None:
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        self.sleep(delay * (0.5 + random.random() / 2))

    def find_posted(self, user_id: str, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the DM carrying `key`, if an earlier attempt did post it."""
        try:
            channel = deliveries.known_dm_channel(self.store, user_id)
            if channel is None:
                opened = self.reader.conversations_open(users=user_id)
                channel = str((opened.get("channel") or {}).get("id") or "")
            ts = find_marked(self.reader, channel, EVENT_TYPE, {"delivery": key},
                             limit=HISTORY_LIMIT)
        except (SlackApiError, OSError) as exc:
            # Cannot tell: better to try again later than to risk a duplicate.
            raise _Unknown(f"could not read the DM history: {type(exc).__name__}") from exc
        return None if ts is None else (channel, ts)


class _Unknown(Exception):
    """Whether a DM was posted cannot be known right now."""


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers if exc.response is not None else {}
    value = None
    for name, v in (headers or {}).items():
        if name.lower() == "retry-after":
            value = v[0] if isinstance(v, list) else v
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def bare_client(client: WebClient, timeout: int) -> WebClient:
    """The same workspace and token, with no automatic retries (we decide each one)."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=timeout,
                     retry_handlers=[])
