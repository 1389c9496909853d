"""The emulator refuses what real Slack refuses: Block Kit limits slack_sdk skips, stale
triggers, worn-out response URLs, and channels the bot cannot post in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.emulator import SlackEmulator, problems


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as e:
        e.add_user("U0AAA", real_name="Ana")
        e.add_channel("C0WINS", name="wins", members=["U0AAA"])
        yield e


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.bot_token, base_url=emu.api_url)


def _opt(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    o: dict[str, Any] = {"text": {"type": "plain_text", "text": text}, "value": value}
    if description is not None:
        o["description"] = {"type": "plain_text", "text": description}
    return o


def _input(element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "input", "block_id": "i", "label": {"type": "plain_text", "text": "L"},
            "element": {"action_id": "a", **element}}


def _section_with(accessory: dict[str, Any]) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "s"},
            "accessory": {"action_id": "a", **accessory}}


LONG = "x" * 76
# One known-bad payload for each rule slack_sdk's models let through, and where Slack points.
BAD_VIEW_BLOCKS: dict[str, tuple[dict[str, Any], str]] = {
    "checkbox description > 75": (
        _input({"type": "checkboxes", "options": [_opt("ok", "v", LONG)]}),
        "/view/blocks/0/element/options/0/description/text"),
    "radio text > 75": (
        _input({"type": "radio_buttons", "options": [_opt(LONG, "v")]}),
        "/view/blocks/0/element/options/0/text/text"),
    "static select option text > 75": (
        _input({"type": "static_select", "options": [_opt(LONG, "v")]}),
        "/view/blocks/0/element/options/0/text/text"),
    "option group option description > 75": (
        _input({"type": "static_select", "option_groups": [
            {"label": {"type": "plain_text", "text": "g"}, "options": [_opt("t", "v", LONG)]}]}),
        "/view/blocks/0/element/option_groups/0/options/0/description/text"),
    "overflow option text > 75": (
        _section_with({"type": "overflow", "options": [_opt(LONG, "v"), _opt("b", "w")]}),
        "/view/blocks/0/accessory/options/0/text/text"),
    "option value > 150": (
        _input({"type": "checkboxes", "options": [_opt("t", "v" * 151)]}),
        "/view/blocks/0/element/options/0/value"),
    "11 checkboxes": (
        _input({"type": "checkboxes", "options": [_opt(f"t{i}", f"v{i}") for i in range(11)]}),
        "/view/blocks/0/element/options"),
    "initial option not among the options": (
        _input({"type": "radio_buttons", "options": [_opt("a", "a")],
                "initial_option": _opt("b", "b")}),
        "/view/blocks/0/element/initial_option"),
    "duplicate option values": (
        _input({"type": "static_select", "options": [_opt("a", "same"), _opt("b", "same")]}),
        "/view/blocks/0/element/options/1/value"),
    "initial_value longer than max_length": (
        _input({"type": "plain_text_input", "max_length": 5, "initial_value": "toolong"}),
        "/view/blocks/0/element/initial_value"),
    "http image": (
        {"type": "image", "image_url": "http://example.org/x.png", "alt_text": "x"},
        "/view/blocks/0/image_url"),
}


@pytest.mark.parametrize("name", sorted(BAD_VIEW_BLOCKS))
def test_views_open_refuses_each_known_bad_block(emu: SlackEmulator, client: WebClient,
                                                 name: str) -> None:
    block, pointer = BAD_VIEW_BLOCKS[name]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"},
            "submit": {"type": "plain_text", "text": "Go"}, "blocks": [block]}
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=emu.new_trigger_id(), view=view)
    answer = err.value.response
    assert answer["error"] == "invalid_arguments"
    assert any(m.startswith("[ERROR] ") and m.endswith(f"[json-pointer:{pointer}]")
               for m in answer["response_metadata"]["messages"]), answer
    assert emu.invalid_payloads[-1][0] == "views.open"
    assert emu.views == {}


def test_valid_choices_pass(client: WebClient, emu: SlackEmulator) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"},
            "submit": {"type": "plain_text", "text": "Go"}, "blocks": [
                _input({"type": "checkboxes", "options": [_opt("a" * 75, "v" * 150, "d" * 75)],
                        "initial_options": [_opt("a" * 75, "v" * 150, "d" * 75)]})]}
    assert client.views_open(trigger_id=emu.new_trigger_id(), view=view)["ok"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_messages_refuse_input_blocks_too_many_blocks_and_duplicate_action_ids(
        client: WebClient, emu: SlackEmulator) -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "x"}
    bad = {
        "input block": [_input({"type": "plain_text_input"})],
        "51 blocks": [{"type": "divider"}] * 51,
        "duplicate action_id": [{"type": "actions", "elements": [button, button]}],
        "button text > 75": [{"type": "actions", "elements": [
            {**button, "text": {"type": "plain_text", "text": LONG}}]}],
    }
    for name, blocks in bad.items():
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0WINS", text="t", blocks=blocks)
        assert err.value.response["error"] == "invalid_blocks", name
        assert err.value.response["response_metadata"]["messages"], name
    assert len(emu.invalid_payloads) == len(bad)
    assert emu.messages("C0WINS") == []
    assert problems([{"type": "divider"}] * 100, kind="view", text=None) == []


def test_triggers_expire_after_three_seconds_and_open_one_view(
        emu: SlackEmulator, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"},
            "blocks": [{"type": "divider"}]}
    fresh = emu.new_trigger_id()
    emu.advance(2.9)
    assert client.views_open(trigger_id=fresh, view=view)["ok"]
    with pytest.raises(SlackApiError) as err:
        client.views_push(trigger_id=fresh, view=view)
    assert err.value.response["error"] == "exchanged_trigger_id"
    stale = emu.new_trigger_id()
    emu.advance(3.1)
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=stale, view=view)
    assert err.value.response["error"] == "expired_trigger_id"


def test_response_url_takes_five_replies_within_thirty_minutes(emu: SlackEmulator) -> None:
    hook = WebhookClient(emu.new_response_url("C0WINS"))
    assert [hook.send(text=f"r{i}").status_code for i in range(6)] == [200] * 5 + [404]
    late = WebhookClient(emu.new_response_url("C0WINS"))
    emu.advance(30 * 60 + 1)
    assert late.send(text="too late").status_code == 404
    assert len(emu.response_posts) == 5


def test_posting_where_the_bot_cannot_post(emu: SlackEmulator, client: WebClient) -> None:
    for change, error in ((dict(archived=True), "is_archived"),
                          (dict(restricted=True), "restricted_action"),
                          (dict(bot_member=False), "not_in_channel")):
        emu.set_channel("C0WINS", **change)
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0WINS", text="hello")
        assert err.value.response["error"] == error
        emu.set_channel("C0WINS", archived=False, restricted=False, bot_member=True)
    assert client.conversations_info(channel="C0WINS")["channel"]["is_archived"] is False
    assert client.chat_postMessage(channel="C0WINS", text="back")["ok"]


def test_dms_slack_refuses(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_user("U0GONE", real_name="Gone Person")
    emu.add_user("U0OTHERBOT", real_name="Other Bot", is_bot=True)
    emu.set_user("U0GONE", deleted=True)
    for user, error in (("U0GONE", "channel_not_found"), ("U0OTHERBOT", "cannot_dm_bot"),
                        ("U0NOBODY", "channel_not_found")):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=user, text="hello")
        assert err.value.response["error"] == error
    emu.set_user("U0GONE", deleted=False)
    assert client.chat_postMessage(channel="U0GONE", text="welcome back")["ok"]
