"""Finding 13: a person writing in the app's Messages tab gets the help; the app never
answers itself, other bots or edits, and so never loops."""

from __future__ import annotations

from typing import Any

from bot.emulator.sandbox import Sandbox
from bot.runtime.manifest import BOT_EVENTS, BOT_SCOPES


def _dm(sandbox: Sandbox, user: str, text: str, **extra: Any) -> None:
    channel = sandbox.emulator.dm_channel_for(user)
    sender = extra.pop("sender", user)
    ts = sandbox.emulator.add_message(channel, user=sender, text=text,
                                      bot_id=extra.get("bot_id"))
    sandbox.driver.event({"type": "message", "channel": channel, "channel_type": "im",
                          "user": sender, "text": text, "ts": ts, **extra})
    sandbox.settle()


def test_a_message_to_the_app_is_answered_with_the_help(sandbox: Sandbox) -> None:
    _dm(sandbox, "U0AAA", "hello? how do I report?")

    answers = sandbox.emulator.bot_messages(sandbox.emulator.dm_channel_for("U0AAA"))
    assert len(answers) == 1
    assert "/impact report" in str(answers[0]["blocks"])
    assert "message.im" in BOT_EVENTS and "im:history" in BOT_SCOPES


def test_the_apps_own_messages_bots_and_edits_are_not_answered(sandbox: Sandbox) -> None:
    bot = sandbox.emulator.bot_user_id
    _dm(sandbox, "U0AAA", "Reminder: …", sender=bot, bot_id=sandbox.emulator.bot_id)
    _dm(sandbox, "U0AAA", "from another bot", bot_id="B0OTHER")
    _dm(sandbox, "U0AAA", "edited", subtype="message_changed")

    channel = sandbox.emulator.dm_channel_for("U0AAA")
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert [m["text"] for m in sandbox.emulator.bot_messages(channel)] == ["Reminder: …"]
