"""`impactbot remind` as an operator runs it: real processes against the emulator."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import ReminderDelivery
from tests.support.processes import bot_env
from tests.support.reminders import reminder_dms
from tests.support.world import MEMBERS

AT = "2026-11-10T21:00:00Z"


def _env(sandbox: Sandbox) -> dict[str, str]:
    return bot_env(sandbox, IMPACTBOT_REMINDER_LEASE_SECONDS="2")


def _remind(sandbox: Sandbox, cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot", "remind", "--at", AT, *args],
                            cwd=cwd, env=_env(sandbox), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def _deliveries(sandbox: Sandbox) -> list[ReminderDelivery]:
    with sandbox.store.session() as session:
        return list(session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.user_id)))


def test_remind_dry_run_lists_who_would_get_what_and_sends_nothing(
        sandbox: Sandbox, tmp_path: Path) -> None:
    code, out, err = _finish(_remind(sandbox, tmp_path, "--dry-run"))

    assert code == 0, err
    assert "U0AAA\treminder\tLake County Health Dept: prenatal-visits 2026-10 (due 2026-11-08)" \
        in out
    assert "Dry run as of 2026-11-10T21:00Z: 5 DM(s) would be sent" in out
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert _deliveries(sandbox) == []


def test_remind_with_a_bad_instant_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "bot", "remind", "--at", "tomorrow"],
                               cwd=tmp_path, env=_env(sandbox), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    code, _out, err = _finish(process)

    assert code == 2
    assert err.startswith("impactbot: --at: 'tomorrow' is not an ISO-8601 instant")


def test_two_remind_processes_started_together_send_each_dm_once(
        sandbox: Sandbox, tmp_path: Path) -> None:
    first, second = _remind(sandbox, tmp_path), _remind(sandbox, tmp_path)
    results = [_finish(first), _finish(second)]

    assert [code for code, _, _ in results] == [0, 0], results
    for user in MEMBERS:
        assert len(reminder_dms(sandbox, user)) == 1, user
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == 5
    assert all(d.sent_at is not None for d in _deliveries(sandbox))
    # Run again: everything is already sent.
    code, out, _ = _finish(_remind(sandbox, tmp_path))
    assert code == 0 and "0 due, 0 sent" in out


def test_remind_killed_mid_fan_out_then_run_again_delivers_every_dm_once(
        sandbox: Sandbox, tmp_path: Path) -> None:
    emu = sandbox.emulator
    # Slack posts the second DM, and the killed process never hears back; later DMs
    # from that process never reach Slack.
    hold = emu.hold("chat.postMessage", nth=2)
    process = _remind(sandbox, tmp_path)
    try:
        assert hold.reached.wait(60), "the fan-out never reached the second DM"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        hold.release()
    posted_before = sum(len(reminder_dms(sandbox, u)) for u in MEMBERS)
    unrecorded = [d for d in _deliveries(sandbox) if d.sent_at is None]
    # Posted by Slack, not recorded by the killed process: the first DM too, when the burst
    # sent it alongside the second and the kill came before its answer was recorded.
    posted_unrecorded = posted_before - sum(1 for d in _deliveries(sandbox) if d.sent_at)

    assert process.returncode == -signal.SIGKILL
    assert posted_before == 2
    assert len(unrecorded) >= 1  # at least the DM Slack posted but nobody recorded

    emu.clear_faults()
    code, out, err = _finish(_remind(sandbox, tmp_path))

    assert code == 0, out + err
    for user in MEMBERS:
        assert len(reminder_dms(sandbox, user)) == 1, user
    assert all(d.sent_at is not None for d in _deliveries(sandbox))
    assert posted_unrecorded in (1, 2)
    assert f"{posted_unrecorded} found already posted" in out
