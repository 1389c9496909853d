"""Running `impactbot` for tests: real processes (start one, read its log lines, wait for
one, its environment) and the CLI in-process."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.world import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """`python -m bot ARGS…` with its stderr (and with `with_stdout`, its stdout too) read
    line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | str, *,
                 own_group: bool = False, with_stdout: bool = False) -> None:
        self.own_group = own_group
        streams = ({"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} if with_stdout
                   else {"stderr": subprocess.PIPE})
        self.process = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                                        text=True, start_new_session=own_group, **streams)
        self.lines: queue.Queue[str] = queue.Queue()
        self.transcript: list[str] = []  # every line so far, read or not (appended only)
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        stream = self.process.stderr or self.process.stdout
        assert stream is not None
        for line in stream:
            self.transcript.append(line)
            self.lines.put(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for(self, needle: str, timeout: float = 30) -> list[str]:
        """Block until a log line contains `needle` (no sleeping); the lines up to it."""
        seen = []
        while True:
            line = self.lines.get(timeout=timeout)
            seen.append(line)
            if needle in line:
                return seen

    def all_lines(self) -> list[str]:
        """Every line not yet read, once the process has ended (up to its last line)."""
        self.process.wait(timeout=30)
        self._pumping.join(timeout=30)
        left = []
        while not self.lines.empty():
            left.append(self.lines.get_nowait())
        return left

    def stop(self) -> None:
        if self.process.poll() is None:
            if self.own_group:
                os.killpg(self.process.pid, signal.SIGTERM)
            else:
                self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def bot_env(sandbox: Sandbox, *, signing_secret: str = "process-test-signing-secret",
            log_level: str = "WARNING", **extra: str) -> dict[str, str]:
    """The environment of an `impactbot` process pointed at the sandbox's emulator and
    database: this machine's Slack and IMPACTBOT_ settings are left out, so they cannot
    leak into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IMPACTBOT_"))}
    env.pop("INITIATIVE_FILE", None)
    env.update({"DATABASE_URL": sandbox.settings.database_url, "PYTHONPATH": str(ROOT),
                "SLACK_API_URL": sandbox.emulator.api_url,
                "SLACK_BOT_TOKEN": sandbox.emulator.bot_token,
                "SLACK_SIGNING_SECRET": signing_secret, "LOG_LEVEL": log_level, **extra})
    return env


def point_cli_at(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI called in-process (`bot.cli.main.main`) use the sandbox's emulator and
    database, and no initiative file from this machine."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", sandbox.emulator.bot_token)
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.api_url)
    monkeypatch.setenv("DATABASE_URL", sandbox.store.url)
    monkeypatch.delenv("INITIATIVE_FILE", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
