"""The bot's own posts, found again by the key in their message metadata.

Every side-effecting post (a reminder DM, a win, a digest, a voice or an announcement)
carries its claim's key as `metadata`. Before a claim whose outcome is unknown is sent
again, the channel's recent history is searched for that key: found means it went out.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient


def marker(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The `metadata` argument for chat.postMessage."""
    return {"event_type": event_type, "event_payload": payload}


def find_marked(client: WebClient, channel: str, event_type: str, payload: dict[str, Any],
                *, limit: int) -> str | None:
    """The ts of a message among the channel's latest `limit` that carries exactly this
    marker, if any. Slack errors propagate: the caller decides what "cannot tell" means."""
    history = client.conversations_history(channel=channel, include_all_metadata=True,
                                           limit=limit)
    for message in history.get("messages") or []:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == event_type and meta.get("event_payload") == payload:
            return str(message.get("ts"))
    return None
