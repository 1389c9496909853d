"""auth.test and users.info: who the bot is (for the calling workspace), who a user is."""

from __future__ import annotations

import copy
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.emulator.api import Method, require_user
from bot.emulator.state import Workspace


def auth_test(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    team_id = ws._caller_team or ws.team_id
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.oauth.teams.get(team_id, ws.team_name),
        "user": ws.users[ws.bot_user_id]["name"],
        "team_id": team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    user = copy.deepcopy(require_user(ws, params.get("user")))
    try:
        zone = ZoneInfo(user["tz"])
        now = datetime.now(zone)
        offset = now.utcoffset()
        user["tz_offset"] = int(offset.total_seconds()) if offset else 0
        user["tz_label"] = now.tzname() or user["tz"]
    except Exception:
        user["tz_offset"] = 0
        user["tz_label"] = user["tz"]
    return {"user": user}


def user_change(ws: Workspace, user_id: str, **changes: Any) -> dict[str, Any]:
    """Change a person as Slack does when they edit their profile (`tz="Europe/Berlin"`),
    and return the `user_change` event Slack then sends: the whole user object as
    users.info shows it, `cache_ts` and the type. Slack's reference
    (https://docs.slack.dev/reference/events/user_change/): sent to every app in the
    workspace with users:read when a member changes their profile or data, not for custom
    profile fields, and not when only the daylight-saving offset moves."""
    with ws._cond:
        require_user(ws, user_id).update(copy.deepcopy(changes))
    user = users_info(ws, {"user": user_id})["user"]
    return {"type": "user_change", "user": user, "cache_ts": int(time.time())}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "users.info": users_info,
}
