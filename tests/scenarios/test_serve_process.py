"""`impactbot serve` as a real process (gunicorn) against the Slack emulator."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import SlackDriver, SlackEmulator
from bot.rendering.help import SUBCOMMANDS
from storage.db import Store
from tests.support.processes import BotProcess, free_port
from tests.support.world import EXAMPLE

SECRET = "serve-test-signing-secret"


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[SlackEmulator, SlackDriver]]:
    with SlackEmulator() as emu:
        emu.add_user("U0AAA", real_name="Ana Health")
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emu.api_url,
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "INITIATIVE_FILE": str(EXAMPLE),
            "LOG_LEVEL": "INFO",
        }
        env.pop("SLACK_APP_TOKEN", None)
        server = BotProcess(["serve"], env, tmp_path)
        try:
            server.wait_for("ready")
            yield emu, SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, emu)
        finally:
            server.stop()


def test_served_bot_answers_signed_help_quickly(served: tuple[SlackEmulator, SlackDriver]
                                                ) -> None:
    emu, driver = served

    reply = driver.command("U0AAA", "help")

    assert reply.status == 200
    assert reply.elapsed < 1.0
    assert emu.wait_for(lambda e: len(e.response_posts) == 1, timeout=10)
    text = emu.response_posts[0].payload["text"]
    assert all(f"/impact {usage}" in text for usage, _, _ in SUBCOMMANDS)


def test_served_bot_refuses_forgeries_and_reports_health(
        served: tuple[SlackEmulator, SlackDriver]) -> None:
    emu, driver = served
    body = b"command=%2Fimpact&text=help&user_id=U0AAA"
    forged = {**driver.sign(body), "X-Slack-Signature": "v0=" + "f" * 64,
              "Content-Type": "application/x-www-form-urlencoded"}

    assert driver.raw(body, forged).status == 401
    assert driver.url_verification("challenge-accepted").body.find("challenge-accepted") >= 0
    health_url = driver.app_url.replace("/slack/events", "/healthz")
    with urllib.request.urlopen(health_url, timeout=5) as response:
        assert response.status == 200
    assert emu.response_posts == []


def test_socket_mode_still_answers_healthz(store: Store) -> None:
    from bot.runtime.server import serve_health

    port = free_port()
    server = serve_health(store, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"ok": True, "database": "up"}
    finally:
        server.shutdown()
        server.server_close()
