"""The HTTP boundary: signed requests in, answers out, forgeries refused."""

from __future__ import annotations

import json
import time
import urllib.request

from bot.emulator.sandbox import Sandbox
from bot.rendering.help import SUBCOMMANDS


def test_help_lists_every_subcommand(sandbox: Sandbox) -> None:
    reply = sandbox.driver.command("U0AAA", "help")
    sandbox.settle()

    assert reply.status == 200
    assert reply.elapsed < 3.0
    (post,) = sandbox.emulator.response_posts
    assert post.payload["response_type"] == "ephemeral"
    for usage, _who, _what in SUBCOMMANDS:
        assert f"/impact {usage}" in post.payload["text"]


def test_no_text_and_unknown_subcommands_get_the_help(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "")
    sandbox.settle()  # each answer in turn: the two run in parallel threads otherwise
    sandbox.driver.command("U0AAA", "frobnicate now")
    sandbox.settle()

    empty, unknown = sandbox.emulator.response_posts
    assert "/impact measures" in empty.payload["text"]
    assert "I don't know `frobnicate`" in unknown.payload["text"]
    assert "/impact measures" in unknown.payload["text"]


def test_url_verification_challenge_is_answered(sandbox: Sandbox) -> None:
    reply = sandbox.driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")

    assert reply.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in reply.body


def _command_body() -> bytes:
    return (b"token=x&team_id=T0IMPACT&user_id=U0AAA&command=%2Fimpact&text=help"
            b"&response_url=http%3A%2F%2F127.0.0.1%2Fx&trigger_id=1.2.3")


def test_unsigned_request_is_refused(sandbox: Sandbox) -> None:
    reply = sandbox.driver.raw(_command_body(),
                               {"Content-Type": "application/x-www-form-urlencoded"})

    assert reply.status == 401
    assert sandbox.emulator.response_posts == []


def test_forged_signature_is_refused(sandbox: Sandbox) -> None:
    body = _command_body()
    headers = sandbox.driver.sign(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    assert sandbox.driver.raw(body, headers).status == 401


def test_replayed_request_older_than_five_minutes_is_refused(sandbox: Sandbox) -> None:
    body = _command_body()
    headers = sandbox.driver.sign(body, timestamp=int(time.time()) - 6 * 60)
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    assert sandbox.driver.raw(body, headers).status == 401


def test_healthz_reports_the_database(sandbox: Sandbox) -> None:
    with urllib.request.urlopen(f"{sandbox.base_url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "database": "up"}


def test_redelivered_event_is_handled_once(sandbox: Sandbox) -> None:
    from sqlalchemy import func, select

    from storage.models import SlackEvent

    event = {"type": "app_home_opened", "user": "U0AAA", "channel": "D0AAA", "tab": "home"}
    first = sandbox.driver.event(event, event_id="Ev0001")
    again = sandbox.driver.event(event, event_id="Ev0001", retry_num=1,
                                 retry_reason="http_timeout")
    sandbox.settle()

    assert (first.status, again.status) == (200, 200)
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(SlackEvent)) == 1
