"""`impactbot run` (HTTP) and `impactbot scheduler` as real processes: the scheduler runs
every tick as soon as it starts, so a reminder round that is due goes out at once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator
from tests.test_serve_process import _free_port, _wait_for_line

UTC_INITIATIVE = Path(__file__).parent / "fixtures" / "utc-initiative.yml"


def _start(command: str, emu: SlackEmulator, database_url: str, tmp_path: Path,
           port: int) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    env = {**os.environ, "SLACK_BOT_TOKEN": emu.bot_token, "SLACK_SIGNING_SECRET": "s3cret",
           "SLACK_API_URL": emu.api_url, "DATABASE_URL": database_url, "PORT": str(port),
           "INITIATIVE_FILE": str(UTC_INITIATIVE), "LOG_LEVEL": "INFO"}
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "bot", command], cwd=tmp_path, env=env,
                               stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "scheduler"])
def test_due_reminders_go_out_as_soon_as_the_scheduler_starts(
        command: str, database_url: str, tmp_path: Path) -> None:
    with SlackEmulator() as emu:
        emu.add_user("U0AAA", real_name="Ana Health", tz="UTC")
        port = _free_port()
        process, lines = _start(command, emu, database_url, tmp_path, port)
        try:
            delivered = emu.wait_for(lambda e: len(e.messages_to_user("U0AAA")) == 1,
                                     timeout=60)
            if command == "run":
                _wait_for_line(lines, "ready", timeout=30)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                            timeout=5) as response:
                    assert response.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    assert delivered, "no reminder DM reached Slack"
    (dm,) = emu.messages_to_user("U0AAA")
    assert "Visits" in dm["text"] or "Visits" in str(dm.get("blocks"))
