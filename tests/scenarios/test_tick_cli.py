"""`impactbot tick` (SPEC §11) as an operator or cron runs it: a real process against the
emulator, every scheduled job once as of an instant (in the future too), exactly once."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import parking
from bot.actions.view import EVENT_TYPE as ACTION_EVENT
from bot.emulator.sandbox import Sandbox
from tests.support.processes import bot_env
from tests.support.reminders import reminder_dms
from tests.support.world import EXAMPLE, MEMBERS, import_example

LATER = "2026-11-17T17:30:00Z"  # 09:30 in Los Angeles, three days before the due date


def tick(sandbox: Sandbox, cwd: Path, *args: str) -> tuple[int, str, str]:
    process = subprocess.run([sys.executable, "-m", "bot", "tick", *args], cwd=cwd,
                             env=bot_env(sandbox), capture_output=True, text=True, timeout=120)
    return process.returncode, process.stdout, process.stderr


def action_dms(sandbox: Sandbox, user: str) -> list[dict[str, object]]:
    return [m for m in sandbox.emulator.messages_to_user(user)
            if (m.get("metadata") or {}).get("event_type") == ACTION_EVENT]


def add_action(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "action add Book the community hall due 2026-11-20")
    sandbox.settle()


def test_tick_dry_run_lists_reminders_and_action_reminders_and_sends_nothing(
        sandbox: Sandbox, tmp_path: Path) -> None:
    add_action(sandbox)
    code, out, err = tick(sandbox, tmp_path, "--at", LATER, "--dry-run")

    assert code == 0, err
    assert "U0CCC\taction #" in out and "before\tBook the community hall" in out
    assert "U0AAA\treminder\tLake County Health Dept" in out
    assert "Nothing was sent." in out
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    # The steering committee's agenda requests (3 December, asked on 30 November).
    code, out, err = tick(sandbox, tmp_path, "--at", "2026-11-30T16:00:00Z", "--dry-run")
    assert code == 0, err
    assert "U0AAA\tmeeting request\tSteering committee (steering:2026-12-03)" in out
    assert sandbox.emulator.calls_to("chat.postMessage") == []


def test_tick_runs_every_job_once_and_a_second_tick_sends_nothing(
        sandbox: Sandbox, tmp_path: Path) -> None:
    add_action(sandbox)
    code, out, err = tick(sandbox, tmp_path, "--at", LATER)
    assert code == 0, err
    for job in ("reminder-tick", "action-reminders", "digest-tick", "backbone-relay"):
        assert f"{job}: ran" in out
    assert len(action_dms(sandbox, "U0CCC")) == 1
    assert all(len(reminder_dms(sandbox, user)) == 1 for user in MEMBERS)
    posted = len(sandbox.emulator.calls_to("chat.postMessage"))

    code, out, err = tick(sandbox, tmp_path, "--at", LATER)
    assert code == 0, err
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == posted


def test_tick_with_a_bad_instant_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    code, _out, err = tick(sandbox, tmp_path, "--at", "next tuesday")
    assert code == 2
    assert err.startswith("impactbot: --at: 'next tuesday' is not an ISO-8601 instant")


def test_tick_dry_run_lists_a_due_digest_and_a_due_round_of_intros(
        sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace(
        "  wins: {emoji: [tada, trophy], threshold: 1}\n",
        "  wins: {emoji: [tada, trophy], threshold: 1}\n"
        "  connect: {every: month, week: 1, weekday: tuesday}\n"))
    import_example(sandbox.store, path=path)

    # Friday 13 November, 15:30 in Chicago: the digest (Fridays at 15:00) is due.
    code, out, err = tick(sandbox, tmp_path, "--at", "2026-11-13T21:30:00Z", "--dry-run")
    assert code == 0, err
    assert "C0BACKBONE\tdigest\t2026-W46" in out and "and the digest would be sent" in out
    # While Slack refuses posts to the backbone channel (parked), the tick would wait.
    parking.park_store(sandbox.store, "C0BACKBONE", "is_archived", "the digest",
                       datetime(2026, 11, 13, 21, 0, tzinfo=UTC))
    code, out, err = tick(sandbox, tmp_path, "--at", "2026-11-13T21:30:00Z", "--dry-run")
    assert code == 0, err
    assert "\tdigest\t" not in out and "and no digest would be sent" in out
    # Tuesday 1 December, 10:30 in Chicago: December's round of intros.
    code, out, err = tick(sandbox, tmp_path, "--at", "2026-12-01T16:30:00Z", "--dry-run")
    assert code == 0, err
    assert "U0AAA,U0CCC\tintro\tround 2026-12" in out and "2 intro(s)" in out
    assert "and no digest would be sent" in out
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert sandbox.emulator.calls_to("conversations.open") == []
