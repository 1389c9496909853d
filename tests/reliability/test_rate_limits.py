"""429 storms: Slack throttles for seconds at a time, or allows only a trickle. Every
Retry-After is honoured and every message still goes out exactly once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.digest.posting import post_digest
from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from tests.reliability.conftest import injected, survived
from tests.support.reminders import reminder_dms, tick
from tests.support.world import MEMBERS, NOW

pytestmark = pytest.mark.usefixtures("fast_retries")


def _first_success_after(sandbox: Sandbox, method: str, start: float) -> float:
    """Seconds from `start` to the first time Slack accepted `method` (wall clock)."""
    return time.monotonic() - start


def test_reminder_fan_out_through_a_429_storm_sends_each_dm_once(sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    emu.set_rate_limit("chat.postMessage", per_second=2, burst=1)
    emu.rate_limit_burst("chat.postMessage", 4)  # real seconds: outlasts a slow build
    emu.rate_limit_burst("conversations.open", 1)

    started = time.monotonic()
    result = tick(sandbox, NOW)
    elapsed = time.monotonic() - started

    assert result.sent == 5 and result.failed == 0
    for user in MEMBERS:
        assert len(reminder_dms(sandbox, user)) == 1, user
    storm = injected(sandbox)
    assert storm["Slack 429"] >= 1
    assert elapsed >= 1.5  # the storm's Retry-After was waited out, not hammered through
    survived(storm)


def test_wins_voice_and_commitments_through_a_429_storm_are_posted_once(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    celebrated = emu.add_message("C0GENERAL", user="U0CCC", text="Clinic open on Saturdays!")
    emu.rate_limit_burst("chat.postMessage", 4)  # real seconds: outlasts a slow build
    emu.rate_limit_burst("conversations.history", 1)

    driver.reaction("U0DDD", "C0GENERAL", celebrated)
    driver.reaction("U0EEE", "C0GENERAL", celebrated, emoji="trophy")
    driver.command("U0BBB", "win Forty families enrolled")
    driver.command("U0EEE", "voice More evening hours please")
    sandbox.settle(timeout=60)

    wins = [m["text"] for m in emu.bot_messages("C0WINS")]
    assert sorted(w.split(":")[0] for w in wins) == ["A win from <@U0BBB> (Lake County Health "
                                                     "Dept)", "A win from <@U0CCC> (North "
                                                     "Clinic)"]
    voices = [m for m in emu.bot_messages("C0BACKBONE") if "Community voice" in m["text"]]
    assert len(voices) == 1, voices
    storm = injected(sandbox)
    assert storm["Slack 429"] >= 2
    survived(storm)


def test_digest_posted_through_a_429_storm_is_posted_once_with_its_chart(
        sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    emu.rate_limit_burst("chat.postMessage", 4)  # real seconds: outlasts a slow build
    emu.rate_limit_burst("files.getUploadURLExternal", 1)
    due = NOW + timedelta(days=3, hours=1)
    sandbox.clock.set(due)

    outcome = post_digest(sandbox.services, due)
    scheduler.run_due_now(sandbox.services, only={"digest-tick"})

    assert outcome.posted
    top = [m for m in emu.bot_messages("C0BACKBONE")
           if m.get("thread_ts") in (None, m["ts"]) and not m.get("upload")]
    assert len(top) == 1, top
    assert len(emu.uploaded_files) == (1 if outcome.chart else 0)
    storm = injected(sandbox)
    assert storm["Slack 429"] >= 1
    survived(storm)
