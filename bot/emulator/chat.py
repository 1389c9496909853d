"""chat.*: post, post ephemerally, update, delete, permalink."""

from __future__ import annotations

import copy
from typing import Any

from bot.emulator.api import (
    ApiError,
    Method,
    bot_message,
    check_blocks,
    require_user,
    resolve_channel,
)
from bot.emulator.state import Channel, Workspace


def _may_post(ch: Channel) -> None:
    """chat.postMessage's refusals for a channel the bot cannot post in
    (docs.slack.dev/reference/methods/chat.postMessage, "Errors"): `is_archived` "Channel has
    been archived", `restricted_action` "A workspace preference prevents the authenticated
    user from posting", `not_in_channel` "Cannot post user messages to a channel they are not
    in"."""
    if ch.is_archived:
        raise ApiError("is_archived")
    if ch.posting_restricted:
        raise ApiError("restricted_action")
    if not ch.bot_is_member:
        raise ApiError("not_in_channel")


def post_message(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = resolve_channel(ws, params.get("channel"), allow_user=True)
    _may_post(ch)
    text = params.get("text")
    if not text and params.get("blocks") is None and params.get("attachments") is None:
        raise ApiError("no_text")
    check_blocks(params)
    meta = params.get("metadata")
    if meta is not None and (
        not isinstance(meta, dict) or "event_type" not in meta or "event_payload" not in meta
    ):
        raise ApiError("invalid_metadata_format")
    thread_ts = params.get("thread_ts") or None
    ts = ws._next_ts()
    msg = bot_message(ws, params, ts)
    ws._store(ch.id, msg, str(thread_ts) if thread_ts else None)
    return {"channel": ch.id, "ts": ts, "message": copy.deepcopy(msg)}


def post_ephemeral(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = resolve_channel(ws, params.get("channel"), allow_user=True)
    user = params.get("user")
    require_user(ws, user)
    if not params.get("text") and params.get("blocks") is None:
        raise ApiError("no_text")
    check_blocks(params)
    ts = ws._next_ts()
    ws.ephemeral_messages.append(
        {
            "channel": ch.id,
            "user": user,
            "text": params.get("text") or "",
            "blocks": copy.deepcopy(params.get("blocks")),
            "thread_ts": params.get("thread_ts"),
            "message_ts": ts,
        }
    )
    return {"message_ts": ts}


def _stored(
    ws: Workspace, params: dict[str, Any], ts_param: str
) -> tuple[Channel, str, dict[str, Any]]:
    """The channel, ts and stored message a call names (by `channel` and `ts_param`)."""
    ch = resolve_channel(ws, params.get("channel"), allow_user=False)
    ts = str(params.get(ts_param) or "")
    msg = ws._find(ch.id, ts)
    if msg is None:
        raise ApiError("message_not_found")
    return ch, ts, msg


def update(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch, ts, msg = _stored(ws, params, "ts")
    if msg.get("bot_id") != ws.bot_id:
        raise ApiError("cant_update_message")
    if ch.is_archived:
        raise ApiError("is_archived")
    if "blocks" in params:
        check_blocks(params)
    if "text" in params and params["text"] is not None:
        msg["text"] = params["text"]
    if "blocks" in params and params["blocks"] is not None:
        msg["blocks"] = copy.deepcopy(params["blocks"])
    if isinstance(params.get("metadata"), dict):
        msg["metadata"] = copy.deepcopy(params["metadata"])
    msg["edited"] = {"user": ws.bot_user_id, "ts": ws._next_ts()}
    return {
        "channel": ch.id,
        "ts": ts,
        "text": msg.get("text", ""),
        "message": copy.deepcopy(msg),
    }


def delete(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch, ts, msg = _stored(ws, params, "ts")
    ws._messages[ch.id].remove(msg)
    return {"channel": ch.id, "ts": ts}


def get_permalink(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch, ts, msg = _stored(ws, params, "message_ts")
    link = f"https://{ws.team_domain}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
    if msg.get("thread_ts") and msg["thread_ts"] != ts:
        link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
    return {"channel": ch.id, "permalink": link}


METHODS: dict[str, Method] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update,
    "chat.delete": delete,
    "chat.getPermalink": get_permalink,
}
