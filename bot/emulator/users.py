"""auth.test and users.info: who the bot is (for the calling workspace), who a user is."""

from __future__ import annotations

import copy
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


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "users.info": users_info,
}
