"""The `message` event Slack sends when someone writes in a conversation the app hears."""

from __future__ import annotations

from typing import Any

from bot.emulator.driver import Reply, SlackDriver
from bot.emulator.server import SlackEmulator


def message_event(emu: SlackEmulator, user: str, channel: str, text: str,
                  thread_ts: str | None = None) -> dict[str, Any]:
    """`user` writes `text` in `channel`: the message is stored and this is the `message`
    event Slack sends for it, as message.channels, message.groups, message.im or
    message.mpim deliver it (`channel_type` names which; a thread reply carries `thread_ts`
    and `parent_user_id`; docs.slack.dev/reference/events/message.channels)."""
    ts = emu.add_message(channel, user=user, text=text, thread_ts=thread_ts)
    ch = emu.channels.get(channel)
    kind = ("channel" if ch is None else "im" if ch.is_im else "mpim" if ch.is_mpim
            else "group" if ch.is_private else "channel")
    event: dict[str, Any] = {"type": "message", "channel": channel, "user": user,
                             "text": text, "ts": ts, "event_ts": ts, "channel_type": kind}
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = (emu.message(channel, thread_ts) or {}).get("user") \
            or emu.bot_user_id
    return event


def write(driver: SlackDriver, user: str, channel: str, text: str,
          thread_ts: str | None = None) -> tuple[str, Reply]:
    """`user` writes `text` in `channel` (a thread reply with `thread_ts`) and Slack sends
    the app the event: the message's ts and the app's answer."""
    event = message_event(driver.emu, user, channel, text, thread_ts)
    return str(event["ts"]), driver.event(event)
