"""SIGKILL in the middle of side-effecting work: the weekly digest (`impactbot digest
--post`) and sharing a win (`impactbot serve`). Slack has done the work, the process dies
before recording it; after a restart everything is done exactly once.
(Reminder fan-out: tests/scenarios/test_reminder_cli.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.emulator import SlackDriver
from bot.emulator.sandbox import Sandbox
from bot.runtime.clock import SystemClock
from bot.wins import flow as wins
from storage.models import Digest, Win
from tests.reliability.conftest import survived
from tests.support.digest import seed_week
from tests.support.processes import BotProcess, bot_env, free_port
from tests.support.world import ROOT

DUE = "2026-11-13T21:30:00Z"  # Friday 15:30 in Chicago: the digest is due
SECRET = "crash-test-signing-secret"


def _env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    return bot_env(sandbox, signing_secret=SECRET, log_level="INFO", **extra)


def _digest(sandbox: Sandbox, at: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot", "digest", "--post", "--at", at],
                            cwd=ROOT, env=_env(sandbox), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _top_level(sandbox: Sandbox, channel: str) -> list[dict[str, object]]:
    return [m for m in sandbox.emulator.bot_messages(channel)
            if m.get("thread_ts") in (None, m["ts"]) and not m.get("upload")]


@pytest.mark.slow
def test_digest_killed_after_slack_posted_it_is_recorded_and_finished_not_repeated(
        sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    seed_week(sandbox.store)  # months of reports: the digest has a chart
    hold = emu.hold("chat.postMessage", nth=1)  # Slack posts it; the poster never hears
    process = _digest(sandbox, DUE)
    try:
        assert hold.reached.wait(60), "the digest was never posted"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        hold.release()
    emu.clear_faults()
    with sandbox.store.session() as session:
        (claim,) = session.scalars(select(Digest)).all()
        assert claim.posted_at is None  # the crash came before it was recorded

    early = _digest(sandbox, "2026-11-13T21:35:00Z")  # within the dead poster's lease
    early_out, _ = early.communicate(timeout=120)
    # Leases run on the real clock (they ask whether a poster is alive, not what time the
    # digest is "as of"): let the dead poster's lease run out instead of waiting for it.
    with sandbox.store.session() as session:
        session.execute(update(Digest).values(
            lease_until=SystemClock().now() - timedelta(seconds=1)))
    late = _digest(sandbox, "2026-11-13T21:45:00Z")  # the lease has run out
    late_out, late_err = late.communicate(timeout=120)
    again = _digest(sandbox, "2026-11-13T22:00:00Z")
    again_out, _ = again.communicate(timeout=120)

    assert process.returncode == -signal.SIGKILL
    assert "being posted by another process" in early_out
    assert late.returncode == 0, late_err
    assert "Recorded the 2026-W46 digest" in late_out
    assert "already posted" in again_out
    (posted,) = _top_level(sandbox, "C0BACKBONE")
    with sandbox.store.session() as session:
        rows = session.execute(select(Digest.attempt, Digest.ts)).all()
    assert [tuple(r) for r in rows] == [(0, posted["ts"])]
    # The thread (the chart) the killed poster never reached is posted once, by the
    # recovery; a digest with a chart has exactly one upload.
    assert "with its chart" in late_out
    (chart,) = emu.uploaded_files
    assert chart.thread_ts == posted["ts"]
    survived({"SIGKILL (digest)": 1})


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[tuple[subprocess.Popen[str], SlackDriver]]:
    port = free_port()
    server = BotProcess(["serve"], _env(sandbox, PORT=str(port)), ROOT, own_group=True)
    try:
        server.wait_for("ready")
        yield server.process, SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET,
                                          sandbox.emulator)
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["typed", "reaction"])
def test_win_sharing_killed_after_slack_posted_it_is_recorded_once_after_restart(
        sandbox: Sandbox, served: tuple[subprocess.Popen[str], SlackDriver], how: str) -> None:
    process, driver = served
    emu = sandbox.emulator
    celebrated = emu.add_message("C0GENERAL", user="U0CCC", text="We hired two nurses!")
    hold = emu.hold("chat.postMessage", nth=1)
    try:
        if how == "typed":
            driver.command("U0BBB", "win Forty families enrolled this month")
        else:
            driver.reaction("U0DDD", "C0GENERAL", celebrated)
        assert hold.reached.wait(60), "the win was never posted"
        os.killpg(process.pid, signal.SIGKILL)  # the whole server, workers included
        process.wait(timeout=30)
    finally:
        hold.release()
    emu.clear_faults()
    with sandbox.store.session() as session:
        (win,) = session.scalars(select(Win)).all()
        assert win.status == "approved" and win.posted_ts is None  # posted, not recorded

    # After the restart the wins tick finds the claim the dead worker left, once its lease
    # has run out, and records the post it finds in the channel instead of posting again.
    sandbox.clock.set(datetime.now(UTC) + wins.LEASE + timedelta(minutes=1))
    client = sandbox.services.client()
    resumed = [wins.resume_unfinished(sandbox.services, client) for _ in range(2)]

    assert resumed == [1, 0]
    (post,) = emu.bot_messages("C0WINS")
    with sandbox.store.session() as session:
        (win,) = session.scalars(select(Win)).all()
        assert (win.status, win.posted_ts) == ("posted", post["ts"])
    survived({"SIGKILL (win sharing)": 1})

