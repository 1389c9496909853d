"""views.*: open and push modals (each spends a trigger id once), publish Home, update."""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from bot.emulator.api import ApiError, Method, refused_blocks, require_user
from bot.emulator.blockkit import view_problems
from bot.emulator.state import Workspace

# A trigger_id lives 3 seconds and opens one view (docs.slack.dev/interactivity/
# handling-user-interaction, "trigger_id"; views.open's errors `expired_trigger_id` "The
# trigger_id provided has expired", `exchanged_trigger_id` "already been exchanged").
TRIGGER_LIFETIME = 3.0


def new_trigger_id(ws: Workspace) -> str:
    n = next(ws._ids)
    tid = f"{n}.{int(time.time())}.{hashlib.sha1(str(n).encode()).hexdigest()[:24]}"
    ws._triggers[tid] = (ws._clock, False)
    return tid


def _check_view(view: Any) -> dict[str, Any]:
    if view is None:
        raise ApiError("invalid_arguments")
    found = view_problems(view)
    if found:
        raise refused_blocks("invalid_arguments", found)
    assert isinstance(view, dict)
    return view


def _use_trigger(ws: Workspace, trigger_id: Any) -> None:
    if not isinstance(trigger_id, str) or not trigger_id:
        raise ApiError("invalid_arguments")
    known = ws._triggers.get(trigger_id)
    if known is None:
        raise ApiError("invalid_trigger_id")
    issued, used = known
    if used:
        raise ApiError("exchanged_trigger_id")
    if ws._clock - issued > TRIGGER_LIFETIME:
        raise ApiError("expired_trigger_id")
    ws._triggers[trigger_id] = (issued, True)


def _record(ws: Workspace, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
    """Store the view as Slack answers it (a fresh hash on every change) under its id."""
    vid = view_id or f"V{next(ws._ids):010d}"
    rec = copy.deepcopy(view)
    rec.update(
        {
            "id": vid,
            "team_id": ws.team_id,
            "app_id": ws.app_id,
            "bot_id": ws.bot_id,
            "app_installed_team_id": ws.team_id,
            "state": {"values": {}},
            "hash": hashlib.sha1(f"{vid}:{next(ws._ids)}".encode()).hexdigest()[:20],
            "root_view_id": vid,
            "previous_view_id": None,
        }
    )
    rec.setdefault("private_metadata", "")
    rec.setdefault("callback_id", "")
    rec.setdefault("external_id", "")
    rec.setdefault("clear_on_close", False)
    rec.setdefault("notify_on_close", False)
    for key in ("title", "submit", "close"):
        rec.setdefault(key, None)
    ws.views[vid] = rec
    return rec


def open_(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    view = _check_view(params.get("view"))
    _use_trigger(ws, params.get("trigger_id") or params.get("interactivity_pointer"))
    return {"view": copy.deepcopy(_record(ws, view))}


def publish(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    user = params.get("user_id")
    require_user(ws, user)
    view = _check_view(params.get("view"))
    if view.get("type") != "home":
        raise ApiError("invalid_arguments")
    current = ws.home_views.get(str(user))
    if params.get("hash") and current is not None and current["hash"] != params["hash"]:
        raise ApiError("hash_conflict")
    rec = _record(ws, view, view_id=current["id"] if current else None)
    ws.home_views[str(user)] = rec
    return {"view": copy.deepcopy(rec)}


def update(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    view = _check_view(params.get("view"))
    vid = params.get("view_id")
    current: dict[str, Any] | None = None
    if vid:
        current = ws.views.get(str(vid))
    elif params.get("external_id"):
        for v in ws.views.values():
            if v.get("external_id") == params["external_id"]:
                current = v
    if current is None:
        raise ApiError("not_found")
    if params.get("hash") and current["hash"] != params["hash"]:
        raise ApiError("hash_conflict")
    rec = _record(ws, view, view_id=current["id"])
    for uid, home in list(ws.home_views.items()):
        if home["id"] == rec["id"]:
            ws.home_views[uid] = rec
    return {"view": copy.deepcopy(rec)}


METHODS: dict[str, Method] = {
    "views.open": open_,
    "views.push": open_,  # a pushed view spends its trigger like an opened one
    "views.publish": publish,
    "views.update": update,
}
