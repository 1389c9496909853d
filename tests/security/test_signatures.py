"""Only Slack gets in: every kind of request is refused unless signed with our secret and
fresh (Slack's v0 HMAC scheme, five minutes of clock skew at most)."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from storage.models import SlackEvent
from tests.support.adversary import table_counts

FORM = "application/x-www-form-urlencoded"


def _command(sandbox: Sandbox) -> tuple[bytes, str]:
    fields = {"token": "x", "team_id": sandbox.driver.team_id, "user_id": "U0AAA",
              "channel_id": "C0GENERAL", "command": "/impact",
              "text": "report prenatal-visits 99", "api_app_id": "A0IMPACT",
              "response_url": sandbox.emulator.new_response_url("C0GENERAL"),
              "trigger_id": sandbox.emulator.new_trigger_id()}
    return urllib.parse.urlencode(fields).encode(), FORM


def _event(sandbox: Sandbox) -> tuple[bytes, str]:
    envelope = {"token": "x", "team_id": sandbox.driver.team_id, "api_app_id": "A0IMPACT",
                "type": "event_callback", "event_id": "Ev0FORGED", "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": "U0AAA", "tab": "home",
                          "channel": "D0AAA", "event_ts": "1.0"},
                "authorizations": [{"team_id": sandbox.driver.team_id, "user_id": "U0IMPACTBOT",
                                    "is_bot": True}]}
    return json.dumps(envelope).encode(), "application/json"


def _interaction(sandbox: Sandbox) -> tuple[bytes, str]:
    payload = {"type": "block_actions", "user": {"id": "U0AAA"}, "api_app_id": "A0IMPACT",
               "team": {"id": sandbox.driver.team_id}, "token": "x",
               "trigger_id": sandbox.emulator.new_trigger_id(),
               "actions": [{"action_id": "report_open", "block_id": "b", "type": "button",
                            "action_ts": "1.0"}],
               "channel": {"id": "C0GENERAL"},
               "response_url": sandbox.emulator.new_response_url("C0GENERAL")}
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), FORM


def _view_submission(sandbox: Sandbox) -> tuple[bytes, str]:
    payload = {"type": "view_submission", "user": {"id": "U0AAA"}, "api_app_id": "A0IMPACT",
               "team": {"id": sandbox.driver.team_id}, "token": "x",
               "view": {"id": "V1", "type": "modal", "callback_id": "report_submit",
                        "private_metadata": "{}",
                        "blocks": [], "state": {"values": {
                            "measure": {"measure": {"type": "static_select", "selected_option":
                                                    {"value": "prenatal-visits"}}},
                            "value": {"value": {"type": "plain_text_input", "value": "99"}}}}}}
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), FORM


KINDS: dict[str, Callable[[Sandbox], tuple[bytes, str]]] = {
    "slash command": _command, "event": _event, "block action": _interaction,
    "view submission": _view_submission,
}


def _assert_nothing_happened(sandbox: Sandbox, before: dict[str, int]) -> None:
    sandbox.settle()
    assert sandbox.emulator.calls == []
    assert sandbox.emulator.response_posts == []
    assert table_counts(sandbox) == before
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(SlackEvent)) == 0


@pytest.mark.parametrize("kind", list(KINDS))
def test_unsigned_request_of_every_kind_is_refused_and_does_nothing(
        sandbox: Sandbox, kind: str) -> None:
    body, content_type = KINDS[kind](sandbox)
    before = table_counts(sandbox)

    reply = sandbox.driver.raw(body, {"Content-Type": content_type})

    assert reply.status == 401
    _assert_nothing_happened(sandbox, before)


@pytest.mark.parametrize("kind", list(KINDS))
def test_forged_signature_of_every_kind_is_refused_and_does_nothing(
        sandbox: Sandbox, kind: str) -> None:
    body, content_type = KINDS[kind](sandbox)
    before = table_counts(sandbox)
    forger = type(sandbox.driver)(sandbox.driver.app_url, "not-our-secret", sandbox.emulator)

    signed_by_someone_else = forger.sign(body)
    tampered = sandbox.driver.sign(body)
    tampered_body = body.replace(b"U0AAA", b"U0BBB")
    assert tampered_body != body
    replies = [
        sandbox.driver.raw(body, {"Content-Type": content_type, **signed_by_someone_else}),
        sandbox.driver.raw(tampered_body, {"Content-Type": content_type, **tampered}),
        sandbox.driver.raw(body, {"Content-Type": content_type, **tampered,
                                  "X-Slack-Signature": "v1="
                                  + tampered["X-Slack-Signature"][3:]}),
    ]

    assert [r.status for r in replies] == [401, 401, 401]
    _assert_nothing_happened(sandbox, before)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("age", [6 * 60, 3600, -6 * 60])
def test_replayed_or_future_dated_request_of_every_kind_is_refused(
        sandbox: Sandbox, kind: str, age: int) -> None:
    body, content_type = KINDS[kind](sandbox)
    before = table_counts(sandbox)
    # Correctly signed with our secret, but captured more than five minutes ago (or dated
    # more than five minutes ahead).
    headers = sandbox.driver.sign(body, timestamp=int(time.time()) - age)

    reply = sandbox.driver.raw(body, {"Content-Type": content_type, **headers})

    assert reply.status == 401
    _assert_nothing_happened(sandbox, before)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_same_request_correctly_signed_and_fresh_is_accepted(
        sandbox: Sandbox, kind: str) -> None:
    body, content_type = KINDS[kind](sandbox)

    reply = sandbox.driver.raw(body, {"Content-Type": content_type, **sandbox.driver.sign(body)})
    sandbox.settle()

    assert reply.status == 200
    assert sandbox.emulator.calls or sandbox.emulator.response_posts


@pytest.mark.parametrize("signed", [False, True])
def test_a_body_bolt_cannot_read_is_a_bad_request_not_a_server_error(
        sandbox: Sandbox, signed: bool) -> None:
    # Bolt reads the body before checking the signature; an event whose `channel` is a
    # number made that reading raise, so anyone could cause a 500 and a logged traceback.
    body = json.dumps({"type": "event_callback", "team_id": sandbox.driver.team_id,
                       "event": {"type": "message", "channel": 5}}).encode()
    headers = {"Content-Type": "application/json",
               **(sandbox.driver.sign(body) if signed else {})}
    before = table_counts(sandbox)

    reply = sandbox.driver.raw(body, headers)

    assert reply.status == 400
    _assert_nothing_happened(sandbox, before)
