"""The community-voice flood limiter: its window, and that it never holds who sent what."""

from __future__ import annotations

from typing import Any

from bot.agenda.voice import FloodLimiter


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    clock = FakeMonotonic()
    limiter = FloodLimiter(limit=2, window=60, monotonic=clock)

    assert [limiter.allow("U1") for _ in range(3)] == [True, True, False]
    assert limiter.allow("U2")
    clock.now += 61
    assert limiter.allow("U1")


def test_limiter_forgets_quiet_senders_and_never_holds_a_user_id() -> None:
    clock = FakeMonotonic()
    limiter = FloodLimiter(limit=2, window=60, monotonic=clock)
    limiter.allow("U0SECRET")

    held: Any = limiter._hits
    assert all("U0SECRET" not in key for key in held)
    assert "U0SECRET" not in repr(vars(limiter))
    clock.now += 61
    limiter.allow("U0OTHER")
    assert len(limiter) == 1


def test_two_processes_pseudonymise_the_same_person_differently() -> None:
    a, b = FloodLimiter(), FloodLimiter()
    assert a._pseudonym("U0AAA") != b._pseudonym("U0AAA")
    assert a._pseudonym("U0AAA") == a._pseudonym("U0AAA")
