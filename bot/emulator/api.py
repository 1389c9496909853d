"""What the Web API method implementations share.

A method is a function `(workspace, params) -> body`: it answers the fields of a successful
reply (the dispatcher adds `"ok": true`), or raises `ApiError` for `{"ok": false, ...}`. It
runs with the workspace lock held.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from bot.emulator.blockkit import problems
from bot.emulator.state import Channel, Workspace

Method = Callable[[Workspace, dict[str, Any]], dict[str, Any]]
Answer = tuple[int, dict[str, Any], dict[str, str]]  # HTTP status, JSON body, headers


class ApiError(Exception):
    """Raised inside a method implementation to answer {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).lower() in ("1", "true", "yes")


def require_user(ws: Workspace, user_id: Any) -> dict[str, Any]:
    if not isinstance(user_id, str) or user_id not in ws.users:
        raise ApiError("user_not_found")
    return ws.users[user_id]


def resolve_channel(ws: Workspace, channel: Any, *, allow_user: bool) -> Channel:
    """The channel a method names; with `allow_user`, a user id means the bot's DM with them."""
    if not isinstance(channel, str) or not channel:
        raise ApiError("channel_not_found")
    if allow_user and channel[0] in "UW" and channel not in ws.channels:
        if channel not in ws.users or ws.users[channel].get("deleted"):
            raise ApiError("channel_not_found")
        if ws.users[channel].get("is_bot") and channel != ws.bot_user_id:
            # Apps cannot DM other bots: `cannot_dm_bot` (docs.slack.dev/reference/methods/
            # conversations.open, "Errors"; chat.postMessage to a bot's user id alike).
            raise ApiError("cannot_dm_bot")
        return ws.channels[ws.dm_channel_for(channel)]
    ch = ws.channels.get(channel)
    if ch is None:
        raise ApiError("channel_not_found")
    return ch


def refused_blocks(error: str, found: list[str]) -> ApiError:
    """Slack's answer to invalid Block Kit: `error`, and each problem in
    `response_metadata.messages` as `[ERROR] … [json-pointer:…]` lines. chat.* methods answer
    `invalid_blocks` (docs.slack.dev/reference/methods/chat.postMessage, "Errors"); views.*
    answer `invalid_arguments` (docs.slack.dev/reference/methods/views.open, "Errors"). `errors`
    keeps the plain list the emulator's own tests read."""
    messages = [p if p.startswith("[ERROR]") else f"[ERROR] {p}" for p in found]
    return ApiError(error, errors=found, response_metadata={"messages": messages})


def check_blocks(params: dict[str, Any]) -> None:
    blocks = params.get("blocks")
    if blocks is None:
        return
    text = params.get("text")
    found = problems(blocks, kind="message", text=text if isinstance(text, str) else None)
    if found:
        raise refused_blocks("invalid_blocks", found)


def bot_message(ws: Workspace, params: dict[str, Any], ts: str) -> dict[str, Any]:
    """A message as Slack stores it when the bot posts `params` (text, blocks, metadata)."""
    msg: dict[str, Any] = {
        "user": ws.bot_user_id,
        "type": "message",
        "ts": ts,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "text": params.get("text") or "",
        "team": ws.team_id,
        "bot_profile": {
            "id": ws.bot_id,
            "app_id": ws.app_id,
            "name": ws.users[ws.bot_user_id]["real_name"],
            "deleted": False,
            "team_id": ws.team_id,
        },
    }
    if params.get("blocks") is not None:
        msg["blocks"] = copy.deepcopy(params["blocks"])
    if params.get("attachments") is not None:
        msg["attachments"] = copy.deepcopy(params["attachments"])
    if isinstance(params.get("metadata"), dict):
        msg["metadata"] = copy.deepcopy(params["metadata"])
    return msg
