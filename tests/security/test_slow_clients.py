"""A served bot (gunicorn, as `impactbot serve` runs it) keeps answering Slack while
clients trickle their requests a byte at a time, and refuses an oversized body unread."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import SlackDriver, SlackEmulator
from bot.runtime.worker import request_end
from tests.support.processes import BotProcess, free_port
from tests.support.world import EXAMPLE

SECRET = "slow-clients-signing-secret"
THREADS = 2
SLOW_CLIENTS = 8


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[SlackEmulator, SlackDriver, int]]:
    with SlackEmulator() as emu:
        emu.add_user("U0AAA", real_name="Ana Health")
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": emu.bot_token, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": emu.api_url, "DATABASE_URL": database_url, "PORT": str(port),
               "INITIATIVE_FILE": str(EXAMPLE), "LOG_LEVEL": "INFO",
               "WEB_THREADS": str(THREADS)}
        env.pop("SLACK_APP_TOKEN", None)
        server = BotProcess(["serve"], env, tmp_path)
        try:
            server.wait_for("ready")
            yield emu, SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, emu), port
        finally:
            server.stop()


def _trickle(port: int, head: bytes, stop: threading.Event, opened: threading.Barrier) -> None:
    """The attacker's pace (a byte every 0.2 s), not a synchronisation."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        opened.wait()
        while not stop.wait(0.2):
            try:
                conn.sendall(b"x")
            except OSError:
                return


def test_slow_clients_do_not_keep_slack_waiting(
        served: tuple[SlackEmulator, SlackDriver, int]) -> None:
    emu, driver, port = served
    heads = [b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ",  # a head that never ends
             b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"]
    stop = threading.Event()
    opened = threading.Barrier(SLOW_CLIENTS + 1, timeout=10)
    attackers = [threading.Thread(target=_trickle, args=(port, heads[n % 2], stop, opened))
                 for n in range(SLOW_CLIENTS)]
    for attacker in attackers:
        attacker.start()
    try:
        opened.wait()
        replies = [driver.command("U0AAA", "help") for _ in range(3)]
        assert [r.status for r in replies] == [200] * 3
        assert max(r.elapsed for r in replies) < 2.0
        assert emu.wait_for(lambda e: len(e.response_posts) == 3, timeout=10)
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join()


def test_an_oversized_body_is_refused_unread_and_the_connection_closed(
        served: tuple[SlackEmulator, SlackDriver, int]) -> None:
    _emu, driver, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 209715200\r\n\r\n" + b"x" * 65536)
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.split(b"\r\n")[0].endswith(b"413 Content Too Large")
    assert driver.command("U0AAA", "help").status == 200


def test_a_request_is_complete_when_its_head_and_announced_body_are_in() -> None:
    head = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
    assert request_end(head[:-2]) is None
    assert request_end(head + b"ab") is None
    assert request_end(head + b"abc") == len(head) + 3
    assert request_end(head + b"abcGET") == len(head) + 3
    assert request_end(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n") is not None
    assert request_end(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") is not None
