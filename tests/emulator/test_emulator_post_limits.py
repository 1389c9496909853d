"""The emulator limits chat.postMessage as Slack does: per workspace, and per channel (a DM
named by the user's id is the DM's channel), answering 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.emulator.faults import (
    POST_MESSAGE_BURST,
    POST_MESSAGE_CHANNEL_BURST,
    POST_MESSAGE_CHANNEL_PER_SECOND,
    POST_MESSAGE_PER_MINUTE,
)

SLOW = 0.001  # a refill so slow that no test run sees a token come back


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as e:
        for n in range(8):
            e.add_user(f"U0PERSON{n}")
        e.add_channel("C0WINS", name="wins")
        e.add_team("T0OTHER", "Other workspace")
        yield e


def _client(emu: SlackEmulator, token: str | None = None) -> WebClient:
    return WebClient(base_url=emu.api_url, token=token or emu.bot_token)


def _other_workspace(emu: SlackEmulator) -> WebClient:
    code = emu.issue_oauth_code("T0OTHER")
    answer = WebClient(base_url=emu.api_url).oauth_v2_access(
        client_id=emu.oauth.client_id, client_secret=emu.oauth.client_secret, code=code)
    return _client(emu, str(answer["access_token"]))


def _post(client: WebClient, channel: str) -> int:
    try:
        client.chat_postMessage(channel=channel, text="hi")
        return 200
    except SlackApiError as exc:
        assert exc.response.status_code == 429
        assert int(exc.response.headers["Retry-After"]) >= 1
        assert exc.response["error"] == "ratelimited"
        return 429


def test_slacks_figures_are_the_default_post_message_limits(emu: SlackEmulator) -> None:
    emu.use_post_message_limits()

    limit = emu._faults.limits["chat.postMessage"]
    assert (limit.per_second * 60, limit.burst) == (POST_MESSAGE_PER_MINUTE, POST_MESSAGE_BURST)
    assert (limit.per_channel_per_second, limit.channel_burst) == (
        POST_MESSAGE_CHANNEL_PER_SECOND, POST_MESSAGE_CHANNEL_BURST)
    assert POST_MESSAGE_CHANNEL_PER_SECOND == 1.0 and 300 <= POST_MESSAGE_PER_MINUTE < 1000


def test_a_dm_is_one_channel_whether_named_by_user_or_by_channel_id(
        emu: SlackEmulator) -> None:
    emu.set_rate_limit("chat.postMessage", per_second=100, burst=100,
                       per_channel_per_second=SLOW, channel_burst=2)
    client = _client(emu)
    dm = emu.dm_channel_for("U0PERSON0")

    answers = [_post(client, "U0PERSON0"), _post(client, dm), _post(client, "U0PERSON0"),
               _post(client, "U0PERSON1"), _post(client, "C0WINS")]

    assert answers == [200, 200, 429, 200, 200]
    assert len(emu.messages(dm)) == 2


def test_the_workspace_limit_counts_per_workspace(emu: SlackEmulator) -> None:
    emu.set_rate_limit("chat.postMessage", per_second=SLOW, burst=3,
                       per_channel_per_second=100, channel_burst=100)
    home, other = _client(emu), _other_workspace(emu)

    home_answers = [_post(home, f"U0PERSON{n}") for n in range(4)]
    other_answers = [_post(other, f"U0PERSON{n}") for n in range(4, 8)]

    assert home_answers == [200, 200, 200, 429]
    assert other_answers == [200, 200, 200, 429]  # its own budget, not what is left of home's
