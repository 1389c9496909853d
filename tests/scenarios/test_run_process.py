"""`impactbot run` (HTTP) and `impactbot scheduler` as real processes: the scheduler runs
every tick as soon as it starts, so a reminder round that is due goes out at once."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator
from tests.support.processes import BotProcess, free_port
from tests.support.world import FIXTURES

UTC_INITIATIVE = FIXTURES / "utc-initiative.yml"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "scheduler"])
def test_due_reminders_go_out_as_soon_as_the_scheduler_starts(
        command: str, database_url: str, tmp_path: Path) -> None:
    with SlackEmulator() as emu:
        emu.add_user("U0AAA", real_name="Ana Health", tz="UTC")
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": emu.bot_token,
               "SLACK_SIGNING_SECRET": "run-test-signing-secret", "SLACK_API_URL": emu.api_url,
               "DATABASE_URL": database_url, "PORT": str(port),
               "INITIATIVE_FILE": str(UTC_INITIATIVE), "LOG_LEVEL": "INFO"}
        env.pop("SLACK_APP_TOKEN", None)
        bot = BotProcess([command], env, tmp_path)
        try:
            delivered = emu.wait_for(lambda e: len(e.messages_to_user("U0AAA")) == 1,
                                     timeout=60)
            if command == "run":
                bot.wait_for("ready")
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                            timeout=5) as response:
                    assert response.status == 200
        finally:
            bot.stop()

    assert delivered, "no reminder DM reached Slack"
    (dm,) = emu.messages_to_user("U0AAA")
    assert "Visits" in dm["text"] or "Visits" in str(dm.get("blocks"))
