"""Pacing sends at Slack's chat.postMessage pace, and the progress line, on a fake clock.

`Pacer.reserve` is the pacing decision (the slot a send may go at), made on an injected
clock: nothing here sleeps.
"""

from __future__ import annotations

import itertools

import pytest

from bot.runtime.pacing import DEFAULT_LIMITS, Pacer, Pacers, PostLimits


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pacer(clock: FakeTime, limits: PostLimits = DEFAULT_LIMITS) -> Pacer:
    return Pacer(limits, monotonic=clock.monotonic, sleep=clock.sleep)


def _slots(pacer: Pacer, channels: list[str | None]) -> list[float]:
    """The slots reserved for sends to `channels`, in seconds from the start."""
    return [round(pacer.reserve(channel) - 100.0, 3) for channel in channels]


def _turns(pacer: Pacer, clock: FakeTime, count: int) -> list[float]:
    """When each of `count` sends (no channel limit) went, waiting its turn."""
    out = []
    for _ in range(count):
        pacer.wait_turn()
        out.append(round(clock.now - 100.0, 3))
    return out


def test_the_default_pace_is_slacks_workspace_limit_with_a_burst_and_1_a_second_per_dm(
        ) -> None:
    assert (DEFAULT_LIMITS.per_second * 60, DEFAULT_LIMITS.burst,
            DEFAULT_LIMITS.channel_interval) == (300, 10, 1.0)


def test_a_round_sends_a_burst_then_spaces_sends_at_the_workspace_rate() -> None:
    pacer = _pacer(FakeTime(), PostLimits(per_second=2.0, burst=3))

    assert _slots(pacer, [f"D{n}" for n in range(6)]) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_one_channel_gets_at_most_one_message_a_second_even_within_the_burst() -> None:
    pacer = _pacer(FakeTime())  # 5 a second, bursts of 10

    assert _slots(pacer, ["D1", "D1", "D2", "D1"]) == [0.0, 1.0, 0.0, 2.0]


def test_10000_dms_at_the_default_pace_take_33_minutes() -> None:
    pacer = _pacer(FakeTime())

    slots = _slots(pacer, [f"D{n}" for n in range(10_000)])

    assert slots[:11] == [0.0] * 10 + [0.2]
    assert slots[-1] == DEFAULT_LIMITS.seconds_for(10_000) == 1998.0  # 33 min 18 s
    assert max(b - a for a, b in itertools.pairwise(slots)) == pytest.approx(0.2)


def test_every_send_of_the_workspace_waits_out_retry_after_and_a_failed_slot_is_reused(
        ) -> None:
    clock = FakeTime()
    pacer = _pacer(clock, PostLimits(per_second=2.0, burst=1))
    assert _turns(pacer, clock, 2) == [0.0, 0.5]

    pacer.hold_off(3.0)  # 429 at 0.5 with Retry-After 3
    assert _turns(pacer, clock, 2) == [3.5, 4.0]
    pacer.refund()  # Slack failed the 4.0 send with a 5xx: its slot is given back
    assert _turns(pacer, clock, 2) == [4.0, 4.5]
    assert pacer.holds == 1


def test_a_429_heard_while_waiting_moves_the_waiting_send_past_it() -> None:
    clock = FakeTime()
    pacer = _pacer(clock, PostLimits(per_second=1.0, burst=1))
    pacer.reserve("D0")  # the slot at 0 is taken: the next send waits until 1

    def sleep_hearing_a_429(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now < 102:
            pacer.hold_off(5.0)  # another thread's send got 429 while this one slept

    pacer._sleep = sleep_hearing_a_429
    pacer.wait_turn("D1")

    assert clock.now == pytest.approx(106.0)  # 101 + Retry-After 5


def test_each_workspace_has_its_own_budget() -> None:
    clock = FakeTime()
    pacers = Pacers(monotonic=clock.monotonic, sleep=clock.sleep)
    busy, quiet = pacers.for_team("T0BUSY"), pacers.for_team("T0QUIET")

    busy_slots = _slots(busy, [f"D{n}" for n in range(50)])
    quiet_slots = _slots(quiet, [f"D{n}" for n in range(9)])
    busy.hold_off(30.0)

    assert busy_slots[-1] == 8.0  # (50 - 10) / 5
    assert quiet_slots == [0.0] * 9  # not behind the busy workspace's 50
    assert pacers.for_team("T0QUIET").reserve("D99") == pytest.approx(100.0)  # nor its 429
    assert pacers.for_team("T0BUSY") is busy
    assert pacers.for_team("T0BUSY", PostLimits(per_second=1.0)) is not busy


def test_channels_already_past_are_forgotten() -> None:
    clock = FakeTime()
    pacer = _pacer(clock, PostLimits(per_second=1000.0, burst=1000))
    _slots(pacer, [f"D{n}" for n in range(1500)])
    clock.now += 10

    assert pacer.reserve("D0") == clock.now  # forgotten or not, its second has passed
    assert len(pacer._channels) <= 1024


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        PostLimits(per_second=0)
    with pytest.raises(ValueError):
        PostLimits(burst=0)


def test_long_cli_runs_print_progress_with_time_left() -> None:
    import io

    from bot.reminders.tick import _ProgressLine

    stream = io.StringIO()
    line = _ProgressLine(stream)
    line(10, 2000)  # too soon for a line
    line.started -= 40.0
    line.last -= 10.0
    line(1000, 2000)

    assert stream.getvalue().startswith("reminders: 1000/2000 (50%), 40s, about 40s left")
