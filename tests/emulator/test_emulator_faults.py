"""The emulator's fault hooks the reliability tests rely on: holding a call, 429 bursts."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator


def test_emulator_hold_completes_the_nth_call_and_drops_the_ones_after_it() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        hold = emu.hold("chat.postMessage", nth=2)
        client.chat_postMessage(channel="U1", text="one")
        answers: list[str] = []

        def post(text: str) -> None:
            try:
                client.chat_postMessage(channel="U1", text=text)
                answers.append("ok")
            except SlackApiError as exc:
                answers.append(str(exc.response.status_code))

        second = threading.Thread(target=post, args=("two",))
        second.start()
        assert hold.reached.wait(10)
        third = threading.Thread(target=post, args=("three",))
        third.start()
        hold.release()
        second.join(10)
        third.join(10)

        assert [m["text"] for m in emu.messages_to_user("U1")] == ["one", "two"]
        assert sorted(answers) == ["503", "ok"]


def test_emulator_429_burst_refuses_calls_with_retry_after() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        emu.rate_limit_burst("chat.postMessage", 30)
        try:
            client.chat_postMessage(channel="U1", text="hi")
            raise AssertionError("expected a 429")
        except SlackApiError as exc:
            assert exc.response.status_code == 429
            assert int(exc.response.headers["Retry-After"]) in (29, 30)
        assert emu.messages_to_user("U1") == []


def test_tier1_history_profile_caps_pages_at_15_and_allows_one_call_a_minute() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        for n in range(20):
            emu.add_message("C0GENERAL", user="U1", text=f"message {n}")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        emu.tier1_history()

        page = client.conversations_history(channel="C0GENERAL", limit=100)
        assert len(page["messages"]) == 15 and page["has_more"] is True
        try:
            client.conversations_history(channel="C0GENERAL", cursor=page["response_metadata"]
                                         ["next_cursor"])
            raise AssertionError("a second history call within the minute was allowed")
        except SlackApiError as exc:
            assert exc.response.status_code == 429
            assert int(exc.response.headers["Retry-After"]) >= 30  # about a minute
        # Each method has its own limit: conversations.replies answers once too.
        client.conversations_replies(channel="C0GENERAL", ts=page["messages"][0]["ts"])


def test_tiers_limit_each_method_per_workspace_and_latency_slows_every_call() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        emu.use_tiers({"users.info": 2})  # Tier 2: 20 a minute, one at a time
        client.users_info(user="U1")
        try:
            client.users_info(user="U1")
            raise AssertionError("Tier 2 allowed two calls at once")
        except SlackApiError as exc:
            assert exc.response.status_code == 429
        emu.clear_faults()
        emu.set_latency(0.2)
        started = time.perf_counter()
        client.users_info(user="U1")
        assert time.perf_counter() - started >= 0.2
