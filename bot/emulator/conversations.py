"""conversations.*: open a DM, channel info and members, history and thread replies (paged)."""

from __future__ import annotations

import copy
from typing import Any

from bot.emulator.api import ApiError, Method, resolve_channel, truthy
from bot.emulator.state import Channel, Workspace, ts_key


def open_(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    users = params.get("users")
    if params.get("channel"):
        ch = resolve_channel(ws, params["channel"], allow_user=False)
        return {"channel": {"id": ch.id}}
    if isinstance(users, list):
        ids = [str(u) for u in users]
    else:
        ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
    if not ids:
        raise ApiError("users_list_not_supplied")
    for u in ids:
        if u not in ws.users or ws.users[u].get("deleted"):
            raise ApiError("user_not_found")
    if len(ids) > 8:
        raise ApiError("too_many_users")
    if len(ids) > 1:
        # Several users: a multi-person DM (mpim) with them and the bot, which is left out
        # of `users` ("we do that for you"); the same set resumes the same conversation.
        # Needs mpim:write (docs.slack.dev/reference/methods/conversations.open).
        return {"channel": {"id": ws.mpim_channel_for(ids)}}
    cid = ws.dm_channel_for(ids[0])
    out: dict[str, Any] = {"channel": {"id": cid}}
    if truthy(params.get("return_im")):
        out["channel"] = channel_info(ws, ws.channels[cid])
    return out


def channel_info(ws: Workspace, ch: Channel) -> dict[str, Any]:
    if ch.is_im:
        return {
            "id": ch.id,
            "created": 1700000000,
            "is_im": True,
            "is_org_shared": False,
            "user": ch.user,
            "is_user_deleted": bool(ch.user and ws.users.get(ch.user, {}).get("deleted")),
            "priority": 0,
        }
    return {
        "id": ch.id,
        "name": ch.name,
        "is_channel": not ch.is_private,
        "is_group": ch.is_private,
        "is_im": False,
        "is_mpim": ch.is_mpim,
        "is_private": ch.is_private,
        "created": 1700000000,
        "is_archived": ch.is_archived,
        "is_general": ch.name == "general",
        "unlinked": 0,
        "name_normalized": ch.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": ws.team_id,
        "creator": "",
        "is_ext_shared": False,
        "shared_team_ids": [ws.team_id],
        "is_member": ch.bot_is_member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
        "num_members": len(ch.members),
    }


def info(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = resolve_channel(ws, params.get("channel"), allow_user=False)
    if ch.is_private and not ch.bot_is_member:
        raise ApiError("channel_not_found")
    return {"channel": channel_info(ws, ch)}


def members(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = resolve_channel(ws, params.get("channel"), allow_user=False)
    return {"members": sorted(ch.members), "response_metadata": {"next_cursor": ""}}


def _window(msgs: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages between `oldest` and `latest` (ends included if `inclusive`)."""
    inclusive = truthy(params.get("inclusive"))
    latest = params.get("latest")
    oldest = params.get("oldest")
    out = []
    for m in msgs:
        k = ts_key(m["ts"])
        if latest not in (None, ""):
            lk = ts_key(str(latest))
            if k > lk or (k == lk and not inclusive):
                continue
        if oldest not in (None, ""):
            ok = ts_key(str(oldest))
            if k < ok or (k == ok and not inclusive):
                continue
        out.append(m)
    return out


def _page(items: list[Any], params: dict[str, Any], default: int,
          cap: int | None = None) -> tuple[list[Any], str]:
    """One page by `limit` and `cursor` (an offset), and the next cursor ("" at the end).
    `cap` is the most Slack answers whatever `limit` asks (15 for history and replies of
    non-Marketplace apps since 2025-05-29; docs.slack.dev/changelog/2025/05/29)."""
    try:
        limit = int(params.get("limit") or default)
    except (TypeError, ValueError):
        limit = default
    limit = max(1, min(limit, 1000, cap or 1000))
    cursor = params.get("cursor")
    start = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
    page = items[start : start + limit]
    nxt = str(start + limit) if start + limit < len(items) else ""
    return page, nxt


def _member_channel(ws: Workspace, params: dict[str, Any]) -> Channel:
    ch = resolve_channel(ws, params.get("channel"), allow_user=False)
    if not ch.bot_is_member:
        raise ApiError("not_in_channel")
    return ch


def _public(page: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of the messages, without metadata unless the call asked for it."""
    include_metadata = truthy(params.get("include_all_metadata"))
    out = []
    for msg in page:
        m = copy.deepcopy(msg)
        if not include_metadata:
            m.pop("metadata", None)
        out.append(m)
    return out


def history(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = _member_channel(ws, params)
    top = [
        m
        for m in ws._messages.get(ch.id, [])
        if not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("subtype")
        == "thread_broadcast"
    ]
    window = list(reversed(_window(top, params)))
    page, nxt = _page(window, params, 100, ws.history_page_cap)
    return {
        "messages": _public(page, params),
        "has_more": bool(nxt),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": nxt},
    }


def replies(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    ch = _member_channel(ws, params)
    ts = str(params.get("ts") or "")
    msg = ws._find(ch.id, ts)
    if msg is None:
        raise ApiError("thread_not_found")
    root = msg.get("thread_ts") or msg["ts"]
    thread = [
        m
        for m in ws._messages.get(ch.id, [])
        if m["ts"] == root or m.get("thread_ts") == root
    ]
    window = _window(thread, params)
    page, nxt = _page(window, params, 1000, ws.history_page_cap)
    return {
        "messages": _public(page, params),
        "has_more": bool(nxt),
        "response_metadata": {"next_cursor": nxt},
    }


METHODS: dict[str, Method] = {
    "conversations.open": open_,
    "conversations.info": info,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
}
