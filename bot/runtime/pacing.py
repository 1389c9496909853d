"""Pacing chat.postMessage at Slack's pace, one budget per workspace.

Slack's limits for chat.postMessage (its reference page, "Rate limiting",
https://docs.slack.dev/reference/methods/chat.postMessage, and the "Rate limits" page,
https://docs.slack.dev/apis/web-api/rate-limits, special tier): "1 message per second to a
specific channel", and above that a limit on the app's posting to the whole workspace,
"several hundred messages per minute", with "generous burst behavior". Limits count per
app per workspace, so each workspace has its own budget and workspaces send in parallel.

`PostLimits` holds the pace the app keeps: 300 a minute per workspace (the low end of
"several hundred": Slack publishes no exact figure, and a 429 costs every sender a pause),
bursts of 10 after a quiet spell, and 1 a second per channel without bursts (a DM is a
channel of its own). `Pacer` hands out send slots under those limits to every thread of a
process; `Pacers` keeps one per workspace. When Slack answers 429 anyway, its Retry-After
pauses the workspace's every sender (`hold_off`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Past this many channels, those whose next slot has passed are forgotten (memory stays
# bounded however many DMs a round sends).
_PRUNE_AT = 1024


@dataclass(frozen=True)
class PostLimits:
    """The pace kept per workspace: `per_second` sustained with bursts of `burst`, and
    at most one message per `channel_interval` seconds to one channel."""

    per_second: float = 5.0
    burst: int = 10
    channel_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1 or self.channel_interval < 0:
            raise ValueError("the rate must be positive, the burst at least 1 and the "
                             "channel interval not negative")

    def seconds_for(self, messages: int) -> float:
        """The least time `messages` DMs to distinct people take at this pace."""
        return max(0, messages - self.burst) / self.per_second


DEFAULT_LIMITS = PostLimits()


class Pacer:
    """Send slots for one workspace, shared by all threads.

    The workspace limit is a generic cell rate algorithm: each caller reserves the
    earliest slot it allows (`reserve`, a pure decision on the injected clock) and sleeps
    until then (`wait_turn`). A channel's next slot is at least `channel_interval` after
    its last; a send its channel holds back also holds back the workspace's later slots
    (slots are handed out in time order), which never exceeds a limit but can leave some
    budget unused — rare, as a reminder round sends each DM to a channel of its own.
    A 429 (`hold_off`) moves every later slot past Retry-After; a slot spent on an
    attempt Slack failed with 5xx is given back to the workspace (`refund`).
    """

    def __init__(self, limits: PostLimits = DEFAULT_LIMITS, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits
        self.interval = 1.0 / limits.per_second
        self.tolerance = (limits.burst - 1) * self.interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = 0.0  # theoretical arrival time of the next conforming send
        self._paused_until = 0.0
        self._channels: dict[str, float] = {}  # channel -> earliest time of its next send
        self.holds = 0

    def reserve(self, channel: str | None = None) -> float:
        """Reserve the earliest slot for a send to `channel`; answer its time."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._tat - self.tolerance, self._paused_until)
            if channel is not None:
                slot = max(slot, self._channels.get(channel, 0.0))
                if len(self._channels) >= _PRUNE_AT:
                    self._channels = {c: t for c, t in self._channels.items() if t > now}
                self._channels[channel] = slot + self.limits.channel_interval
            self._tat = max(self._tat, slot) + self.interval
            return slot

    def wait_turn(self, channel: str | None = None) -> None:
        """Sleep until this caller may send to `channel`."""
        while True:
            slot = self.reserve(channel)
            now = self._monotonic()
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                # A 429 heard while we slept moves everyone's turn past the pause.
                if self._monotonic() >= self._paused_until:
                    return

    def hold_off(self, seconds: float) -> None:
        with self._lock:
            self.holds += 1
            self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def refund(self) -> None:
        with self._lock:
            self._tat = max(self._monotonic(), self._tat - self.interval)


class Pacers:
    """One `Pacer` per workspace (team id) in this process: a workspace's senders share
    its budget, and another workspace's sends never wait on it."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pacers: dict[str, Pacer] = {}

    def for_team(self, team_id: str, limits: PostLimits = DEFAULT_LIMITS) -> Pacer:
        """The workspace's pacer (a new one if the limits changed, e.g. by an operator)."""
        with self._lock:
            pacer = self._pacers.get(team_id)
            if pacer is None or pacer.limits != limits:
                pacer = Pacer(limits, monotonic=self._monotonic, sleep=self._sleep)
                self._pacers[team_id] = pacer
            return pacer
