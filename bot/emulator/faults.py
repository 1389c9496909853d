"""Fault injection: failed calls, failures after the effect, failure rates, rate limits, holds.

`Faults` is what a test asked to go wrong, per Web API method; the dispatcher asks it
`before` running a method and `after` it. `FaultInjection` is the knobs tests turn, mixed
into `SlackEmulator` (they share its lock).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.api import Answer

# Slack's rate-limit tiers, per method and workspace, as calls per minute ("Rate limits",
# https://docs.slack.dev/apis/web-api/rate-limits: Tier 1 1+/min, Tier 2 20+/min, Tier 3
# 50+/min, Tier 4 100+/min; chat.postMessage is "special": about 1 message per second per
# channel, with short bursts allowed). Each method's tier is on its reference page.
TIERS: dict[int, float] = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS: dict[str, int] = {
    "conversations.history": 3, "conversations.replies": 3, "conversations.info": 3,
    "conversations.open": 3, "conversations.members": 4, "users.info": 4, "users.list": 2,
    "chat.getPermalink": 4, "chat.update": 3, "chat.postEphemeral": 4, "views.open": 4,
    "views.publish": 4, "views.update": 4, "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4, "auth.test": 4,
}
# Since May 29, 2025, commercially distributed apps not approved for the Marketplace get
# conversations.history and conversations.replies at 1 request per minute, with `limit`
# capped at 15 messages (more pages through `has_more`) — same page, "App types and rate
# limits", and the changelog "Rate limit changes for non-Marketplace apps" (2025-05-29).
TIER1_HISTORY_METHODS = ("conversations.history", "conversations.replies")
TIER1_HISTORY_LIMIT = 15
# chat.postMessage's own limits (its reference page, "Rate limiting",
# https://docs.slack.dev/reference/methods/chat.postMessage: "It will generally allow an app
# to post 1 message per second to a specific channel. There are limits governing your app's
# relationship with the entire workspace above that, limiting posting to several hundred
# messages per minute. Generous burst behavior is also granted."; "Rate limits" page:
# "Posting messages: 1 per second, short bursts >1 allowed"). Slack publishes no exact
# workspace figure: the emulator holds an app to the low end of "several hundred", 300 a
# minute, with a burst of 30, and each channel (a DM is a channel) to 1 a second with
# bursts of 3. Like every Web API limit, they count per app per workspace.
POST_MESSAGE_PER_MINUTE = 300
POST_MESSAGE_BURST = 30
POST_MESSAGE_CHANNEL_PER_SECOND = 1.0
POST_MESSAGE_CHANNEL_BURST = 3


@dataclass
class Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token; answer 0 if granted, else seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class RateLimit:
    """A method's limit, counted per workspace (the caller's team) as Slack does, and per
    channel within it when `per_channel_per_second` is set."""

    per_second: float
    burst: int
    per_channel_per_second: float | None
    channel_burst: int
    buckets: dict[str, Bucket] = field(default_factory=dict)  # team -> bucket
    channel_buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def take(self, team: str, channel: str, now: float) -> float:
        """0 if the call may go now (its tokens are taken), else seconds to wait."""
        bucket = self.buckets.get(team)
        if bucket is None:
            bucket = self.buckets[team] = Bucket(self.per_second, float(self.burst),
                                                 float(self.burst), now)
        wait = bucket.take(now)
        if wait == 0 and self.per_channel_per_second:
            b = self.channel_buckets.get((team, channel))
            if b is None:
                b = Bucket(self.per_channel_per_second, float(self.channel_burst),
                           float(self.channel_burst), now)
                self.channel_buckets[(team, channel)] = b
            wait = b.take(now)
            if wait > 0:  # give the workspace token back: the call did not happen
                bucket.tokens = min(bucket.capacity, bucket.tokens + 1)
        return wait


class Hold:
    """A call the emulator completes and then holds open: the client never hears back.

    `hold(method, nth=n)`: the n-th successful call to `method` is processed (a message is
    stored) and its answer withheld until `release()`; every later call to the method is
    withheld *unprocessed* and, once released, answered 503 without being processed. A test
    can then kill the caller between "Slack did it" and "the caller recorded it".
    """

    def __init__(self, method: str, nth: int, timeout: float) -> None:
        self.method = method
        self.nth = nth
        self.timeout = timeout
        self.seen = 0
        self.tripped = False
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()


def fault_answer(status: int, retry_after: int, error: str | None) -> Answer:
    """Slack's answer to a failed call: 429 with Retry-After, else `error` at `status`."""
    if status == 429:
        return (
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": str(max(1, int(retry_after)))},
        )
    return status, {"ok": False, "error": error or "internal_error"}, {}


@dataclass
class Faults:
    """What a test asked to go wrong, per method; used with the emulator's lock held."""

    queued: dict[str, list[tuple[int, int, str | None]]] = field(default_factory=dict)
    after_effect: dict[str, list[int]] = field(default_factory=dict)
    rates: dict[str, tuple[float, int, random.Random]] = field(default_factory=dict)
    limits: dict[str, RateLimit] = field(default_factory=dict)
    bursts: dict[str, float] = field(default_factory=dict)  # method -> monotonic end of 429s
    holds: dict[str, Hold] = field(default_factory=dict)
    latency: float = 0.0  # seconds every Web API call takes (slow Slack)
    page_caps: dict[str, int] = field(default_factory=dict)  # method -> most messages a call

    def cap_limit(self, method: str, params: dict[str, Any]) -> None:
        """Lower a call's `limit` to the method's cap (the Tier-1 history profile)."""
        cap = self.page_caps.get(method)
        if cap is None:
            return
        try:
            asked = int(params.get("limit") or cap)
        except (TypeError, ValueError):
            asked = cap
        params["limit"] = min(max(asked, 1), cap)

    def clear(self) -> None:
        self.latency = 0.0
        self.page_caps.clear()
        self.queued.clear()
        self.after_effect.clear()
        self.rates.clear()
        self.limits.clear()
        self.bursts.clear()
        for hold in self.holds.values():
            hold.release()
        self.holds.clear()

    def before(self, method: str, params: dict[str, Any], team: str = "",
               channel: str = "") -> Answer | None:
        """The failure that stops this call before it takes effect, if any. `team` is the
        caller's workspace, `channel` the conversation the call posts to (a user id already
        resolved to the DM's channel id)."""
        queue = self.queued.get(method)
        if queue:
            status, retry_after, error = queue.pop(0)
            return fault_answer(status, retry_after, error)
        fr = self.rates.get(method)
        if fr is not None:
            rate, status, rng = fr
            if rng.random() < rate:
                return fault_answer(status, 1, None)
        burst_end = self.bursts.get(method)
        if burst_end is not None and burst_end > time.monotonic():
            return fault_answer(429, math.ceil(burst_end - time.monotonic()), None)
        rl = self.limits.get(method)
        if rl is not None:
            ch = channel or str(params.get("channel") or params.get("channel_id") or "")
            wait = rl.take(team, ch, time.monotonic())
            if wait > 0:
                return fault_answer(429, max(1, math.ceil(wait)), None)
        return None

    def after(self, method: str) -> Answer | None:
        """The failure this call answers although it took effect, if any."""
        queue = self.after_effect.get(method)
        if queue:
            return fault_answer(queue.pop(0), 1, None)
        return None


class FaultInjection:
    """The knobs a test turns to make Web API calls fail, throttle or hang."""

    _lock: threading.RLock
    _faults: Faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.queued.setdefault(method, []).extend(
                [(status, retry_after, error)] * count
            )

    def fail_after(self, method: str, *, status: int = 500, count: int = 1) -> None:
        """The next `count` calls of `method` take effect (a message IS posted) and then
        answer HTTP `status`: Slack's worst case, a side effect the caller cannot see."""
        with self._lock:
            self._faults.after_effect.setdefault(method, []).extend([status] * count)

    def set_failure_rate(
        self, method: str, rate: float, *, status: int = 500, seed: int = 0
    ) -> None:
        with self._lock:
            if rate <= 0:
                self._faults.rates.pop(method, None)
            else:
                self._faults.rates[method] = (rate, status, random.Random(seed))

    def set_rate_limit(
        self,
        method: str,
        *,
        per_second: float,
        burst: int = 1,
        per_channel_per_second: float | None = None,
        channel_burst: int | None = None,
    ) -> None:
        """Limit `method` to `per_second` calls per workspace (bursts of `burst`), and per
        channel to `per_channel_per_second` (bursts of `channel_burst`, default `burst`);
        a call over the limit gets 429 with Retry-After, as from Slack."""
        with self._lock:
            self._faults.limits[method] = RateLimit(
                per_second=per_second,
                burst=burst,
                per_channel_per_second=per_channel_per_second,
                channel_burst=channel_burst if channel_burst is not None else burst,
            )

    def use_post_message_limits(self) -> None:
        """chat.postMessage as Slack limits it: per workspace and per channel (see
        POST_MESSAGE_PER_MINUTE and the lines above it)."""
        self.set_rate_limit("chat.postMessage", per_second=POST_MESSAGE_PER_MINUTE / 60,
                            burst=POST_MESSAGE_BURST,
                            per_channel_per_second=POST_MESSAGE_CHANNEL_PER_SECOND,
                            channel_burst=POST_MESSAGE_CHANNEL_BURST)

    def rate_limit_burst(self, method: str, seconds: float) -> None:
        """For the next `seconds`, every call to `method` gets 429 with the remaining
        time as Retry-After (Slack throttling a workspace for a while)."""
        with self._lock:
            end = time.monotonic() + seconds
            self._faults.bursts[method] = max(self._faults.bursts.get(method, 0.0), end)

    def hold(self, method: str, *, nth: int = 1, timeout: float = 60.0) -> Hold:
        """Complete the nth successful call to `method`, then withhold answers (see Hold)."""
        with self._lock:
            hold = Hold(method, nth, timeout)
            self._faults.holds[method] = hold
            return hold

    def set_latency(self, seconds: float) -> None:
        """Every Web API call takes `seconds` more (outside the emulator's lock, so calls
        still overlap as they do against real Slack)."""
        with self._lock:
            self._faults.latency = max(0.0, seconds)

    def use_tiers(self, tiers: dict[str, int] | None = None, *, burst: int = 1) -> None:
        """Rate-limit methods per workspace by Slack's tiers (default: METHOD_TIERS)."""
        for method, tier in (tiers or METHOD_TIERS).items():
            self.set_rate_limit(method, per_second=TIERS[tier] / 60, burst=burst)

    def tier1_history(self, *, per_minute: float = 1.0, burst: int = 1) -> None:
        """The 2025 profile for distributed non-Marketplace apps: conversations.history and
        conversations.replies answer 1 call a minute, at most 15 messages a call."""
        for method in TIER1_HISTORY_METHODS:
            self.set_rate_limit(method, per_second=per_minute / 60, burst=burst)
            with self._lock:
                self._faults.page_caps[method] = TIER1_HISTORY_LIMIT

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
