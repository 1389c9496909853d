"""A signed request replayed within Slack's five-minute signature window acts once: every
kind of request Slack sends is captured as it went in and sent again, byte for byte."""

from __future__ import annotations

import socket
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from bot.emulator.driver import Reply
from bot.emulator.sandbox import Sandbox
from bot.runtime.manifest import SHORTCUT_CALLBACK
from bot.runtime.replays import ReplayGuard
from bot.runtime.settings import MAX_BODY_BYTES
from tests.support.adversary import table_counts
from tests.support.wins import react, say

Sent = list[tuple[bytes, dict[str, str]]]


def _recording(sandbox: Sandbox) -> Sent:
    """Capture every request the driver sends, exactly as sent."""
    sent: Sent = []
    original = sandbox.driver.raw

    def raw(body: bytes, headers: dict[str, str]) -> Reply:
        sent.append((body, dict(headers)))
        return original(body, headers)

    sandbox.driver.raw = raw  # type: ignore[method-assign]
    return sent


def _report_form(sandbox: Sandbox) -> Reply:
    view = {"id": "V1", "type": "modal", "callback_id": "report_submit",
            "private_metadata": "{}", "blocks": []}
    values = {"measure": {"measure": {"type": "static_select",
                                      "selected_option": {"value": "prenatal-visits"}}},
              "value": {"value": {"type": "plain_text_input", "value": "41"}}}
    return sandbox.driver.view_submission("U0AAA", view, values)


def _report_button(sandbox: Sandbox) -> Reply:
    driver = sandbox.driver
    return driver._interactive({
        "type": "block_actions", "user": driver._user_obj("U0AAA"), "team": driver._team(),
        "api_app_id": driver.api_app_id, "token": "x", "trigger_id": driver._trigger(),
        "actions": [{"action_id": "report_open", "block_id": "b", "type": "button",
                     "action_ts": driver._action_ts()}],
        "channel": {"id": "C0GENERAL"},
        "response_url": sandbox.emulator.new_response_url("C0GENERAL")})


def _options(sandbox: Sandbox) -> Reply:
    driver = sandbox.driver
    return driver._interactive({
        "type": "block_suggestion", "user": driver._user_obj("U0AAA"), "team": driver._team(),
        "api_app_id": driver.api_app_id, "token": "x", "action_id": "measure",
        "block_id": "measure", "value": "pre"})


def _reaction(sandbox: Sandbox) -> Reply:
    ts = say(sandbox, "U0AAA", "We opened a second clinic")
    sent = _recording(sandbox)  # only the reaction is replayed
    react(sandbox, "U0BBB", ts)
    return _last(sent)


def _shortcut(sandbox: Sandbox) -> Reply:
    ts = say(sandbox, "U0AAA", "Forty families enrolled this week")
    return sandbox.driver.message_shortcut("U0AAA", SHORTCUT_CALLBACK, "C0GENERAL", ts)


def _last(sent: Sent) -> Any:
    return sent[-1]


KINDS: dict[str, Callable[[Sandbox], Any]] = {
    "slash command (report)": lambda s: s.driver.command("U0AAA", "report prenatal-visits 99"),
    "slash command (voice)": lambda s: s.driver.command("U0BBB", "voice Evening hours please"),
    "slash command (export)": lambda s: s.driver.command("U0BACKBONE1", "export"),
    "event (reaction)": _reaction,
    "block action": _report_button,
    "view submission": _report_form,
    "message shortcut": _shortcut,
    "options": _options,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_replayed_request_acts_once(sandbox: Sandbox, kind: str) -> None:
    sent = _recording(sandbox)
    outcome = KINDS[kind](sandbox)
    sandbox.settle()
    body, headers = outcome if isinstance(outcome, tuple) else sent[-1]
    counts = table_counts(sandbox)
    calls = len(sandbox.emulator.calls)
    posts = len(sandbox.emulator.response_posts)

    replies = [sandbox.driver.raw(body, headers) for _ in range(3)]
    sandbox.settle()

    assert [(r.status, r.body) for r in replies] == [(200, "")] * 3
    assert table_counts(sandbox) == counts
    assert len(sandbox.emulator.calls) == calls
    assert len(sandbox.emulator.response_posts) == posts


def test_the_memory_is_shared_by_every_worker(sandbox: Sandbox) -> None:
    """Two workers (or processes) on one database: the second refuses what the first took."""
    secret = sandbox.settings.signing_secret or ""
    body = b"command=%2Fimpact&text=help"
    headers = sandbox.driver.sign(body)
    first, second = ReplayGuard(sandbox.store, secret), ReplayGuard(sandbox.store, secret)
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]

    assert first.is_replay(body, timestamp, signature) is False
    assert second.is_replay(body, timestamp, signature) is True
    assert first.is_replay(body, timestamp, signature) is True
    # a forged signature is not remembered (it never passes Bolt) and never blocks anything
    assert second.is_replay(body, timestamp, "v0=" + "0" * 64) is False
    assert second.is_replay(body, timestamp, "v0=" + "0" * 64) is False


def test_a_request_signed_anew_is_not_a_replay(sandbox: Sandbox) -> None:
    """Slack's retries are new requests with a new timestamp and signature: both act."""
    fields = {"team_id": sandbox.driver.team_id, "user_id": "U0AAA", "command": "/impact",
              "channel_id": "C0GENERAL", "text": "help", "api_app_id": "A0IMPACT",
              "response_url": sandbox.emulator.new_response_url("C0GENERAL"),
              "trigger_id": sandbox.emulator.new_trigger_id()}
    body = urllib.parse.urlencode(fields).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    now = int(time.time())
    first = sandbox.driver.raw(body, {**form, **sandbox.driver.sign(body, now - 1)})
    second = sandbox.driver.raw(body, {**form, **sandbox.driver.sign(body, now)})
    sandbox.settle()
    assert first.status == second.status == 200
    assert len(sandbox.emulator.response_posts) == 2


def _send_head(port: int, length: int, first_bytes: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {length}\r\n\r\n".encode() + first_bytes)
        return conn.recv(4096)


def test_an_oversized_body_is_refused_before_it_is_read(sandbox: Sandbox) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    answer = _send_head(port, 200 * 1024 * 1024, b"{" + b" " * 65536)
    assert answer.startswith(b"HTTP/1.") and b" 413 " in answer.split(b"\r\n")[0]
    # a body of exactly the cap is read, then refused as what it is (unsigned, not JSON)
    at_cap = _send_head(port, MAX_BODY_BYTES, b"x" * MAX_BODY_BYTES)
    assert at_cap.split(b"\r\n")[0].split()[1] in (b"400", b"401")
