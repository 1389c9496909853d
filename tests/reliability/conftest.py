"""Reliability fixtures: retries without the real waits, and a tally of faults survived.

`faults` counts every fault a test injected and the app survived, by kind; the totals are
printed at the end of the run ("faults injected and survived: N", tests/support/tallies.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from bot.emulator.sandbox import Sandbox
from tests.support.tallies import FAULTS


def injected(sandbox: Sandbox) -> Counter[str]:
    """The faults the emulator answered with so far, by kind (5xx, 429)."""
    kinds: Counter[str] = Counter()
    for call in sandbox.emulator.calls:
        if call.status >= 500:
            kinds["Slack 5xx"] += 1
        elif call.status == 429:
            kinds["Slack 429"] += 1
    return kinds


def survived(kinds: Counter[str] | dict[str, int]) -> None:
    FAULTS.update(kinds)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The same retries, without seconds of backoff between them (429s still wait their
    Retry-After: honouring it is what is being tested)."""
    monkeypatch.setattr("bot.reminders.fanout.BACKOFF_BASE", 0.001)
    monkeypatch.setattr(BackoffRetryIntervalCalculator, "calculate_sleep_duration",
                        lambda self, current_attempt: 0.001)
    yield
