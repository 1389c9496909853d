"""Pacing the reminder fan-out and its progress line, on a fake clock."""

from __future__ import annotations

from bot.reminders.fanout import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _turns(pacer: Pacer, clock: FakeTime, count: int) -> list[float]:
    out = []
    for _ in range(count):
        pacer.wait_turn()
        out.append(round(clock.now - 100.0, 3))
    return out


def test_pacer_spaces_sends_at_the_rate_after_an_initial_burst() -> None:
    clock = FakeTime()
    pacer = Pacer(2.0, burst=3, monotonic=clock.monotonic, sleep=clock.sleep)

    assert _turns(pacer, clock, 6) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_pacer_stops_every_sender_for_retry_after_and_reuses_a_failed_slot() -> None:
    clock = FakeTime()
    pacer = Pacer(2.0, monotonic=clock.monotonic, sleep=clock.sleep)
    assert _turns(pacer, clock, 2) == [0.0, 0.5]

    pacer.hold_off(3.0)  # 429 at 0.5 with Retry-After 3
    assert _turns(pacer, clock, 2) == [3.5, 4.0]
    pacer.refund()  # Slack failed the 4.0 send with a 5xx: its slot is given back
    assert _turns(pacer, clock, 2) == [4.0, 4.5]


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
