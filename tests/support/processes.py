"""Real `impactbot` processes for tests: start one, read its log lines, wait for one."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """`python -m bot ARGS…` with its stderr read line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | str, *,
                 own_group: bool = False) -> None:
        self.own_group = own_group
        self.process = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                                        stderr=subprocess.PIPE, text=True,
                                        start_new_session=own_group)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
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

    def stop(self) -> None:
        if self.process.poll() is None:
            if self.own_group:
                os.killpg(self.process.pid, signal.SIGTERM)
            else:
                self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
