"""Steps and readers for the wins tests: say something, celebrate it, read the wins channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator import SlackEmulator
from bot.emulator.sandbox import Sandbox
from storage.models import Win
from tests.support.world import GENERAL, WINS


def say(sandbox: Sandbox, user: str, text: str, channel: str = GENERAL, **kw: Any) -> str:
    return sandbox.emulator.add_message(channel, user=user, text=text, **kw)


def react(sandbox: Sandbox, user: str, ts: str, channel: str = GENERAL, emoji: str = "tada",
          **kw: Any) -> None:
    reply = sandbox.driver.reaction(user, channel, ts, emoji=emoji, **kw)
    assert reply.status == 200
    assert reply.elapsed < 3.0


def wins_posts(emulator: SlackEmulator) -> list[dict[str, Any]]:
    """What the bot posted to the wins channel, oldest first."""
    return emulator.bot_messages(WINS)


def post_text(post: dict[str, Any]) -> str:
    """Everything a person can read in a post: fallback text and every block's text."""
    parts = [post.get("text") or ""]
    for block in post.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements") or []
                     if isinstance(e, dict) and isinstance(e.get("text"), str))
    return "\n".join(parts)


def win_rows(sandbox: Sandbox) -> list[Win]:
    with sandbox.store.session() as session:
        return list(session.scalars(select(Win).order_by(Win.id)))


def consent_dms(sandbox: Sandbox, user: str) -> list[dict[str, Any]]:
    """The DMs asking this author whether their win may be shared."""
    return [m for m in sandbox.emulator.messages_to_user(user)
            if "win_approve" in str(m.get("blocks"))]


def click(sandbox: Sandbox, user: str, action_id: str, dm: dict[str, Any]) -> None:
    """Press a button in a DM the bot sent to `user`."""
    channel = sandbox.emulator.dm_channel_for(user)
    reply = sandbox.driver.block_action(user, action_id, message=dm, channel=channel)
    assert reply.status == 200
    sandbox.settle()
