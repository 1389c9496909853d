"""OAuth v2 in the emulator: install codes, per-workspace bot tokens, token rotation.

`oauth.v2.access` exchanges a code the test issued (`issue_oauth_code`) or a refresh token
for a bot token of that workspace; every later Web API call with that token acts for it
(`auth.test` answers its team).
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.emulator.state import OAuthState, Workspace

__all__ = ["OAuthFailure", "OAuthState", "access", "issue_code", "revoke_team", "team_of_token"]


class OAuthFailure(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def issue_code(state: OAuthState, team_id: str, user_id: str, rotating: bool) -> str:
    code = f"code-{secrets.token_hex(8)}"
    state.codes[code] = (team_id, user_id, rotating)
    return code


def team_of_token(ws: Workspace, token: str) -> str | None:
    if token == ws.bot_token:
        return ws.team_id
    return ws.oauth.tokens.get(token)


def access(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """oauth.v2.access: a code (install) or a refresh token (rotation) for a bot token."""
    state = ws.oauth
    if (params.get("client_id"), params.get("client_secret")) != (state.client_id,
                                                                  state.client_secret):
        raise OAuthFailure("invalid_client_id")
    if params.get("grant_type") == "refresh_token":
        team_id = state.refresh_tokens.pop(str(params.get("refresh_token")), None)
        if team_id is None:
            raise OAuthFailure("invalid_refresh_token")
        revoke_team(state, team_id)  # the old token stops working
        return _grant(ws, team_id, "U0INSTALLER", rotating=True)
    grant = state.codes.pop(str(params.get("code")), None)
    if grant is None:
        raise OAuthFailure("invalid_code")
    team_id, user_id, rotating = grant
    return _grant(ws, team_id, user_id, rotating)


def _grant(ws: Workspace, team_id: str, user_id: str, rotating: bool) -> dict[str, Any]:
    state = ws.oauth
    token = f"xoxb-{team_id}-{secrets.token_hex(6)}"
    state.tokens[token] = team_id
    answer: dict[str, Any] = {
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": ws.bot_user_id,
        "app_id": ws.app_id,
        "team": {"id": team_id, "name": state.teams.get(team_id, team_id)},
        # A workspace of an Enterprise Grid organisation is named with its organisation;
        # a workspace-level install there is still not an enterprise install
        # (https://docs.slack.dev/reference/methods/oauth.v2.access, "enterprise").
        "enterprise": _enterprise(state, team_id),
        "authed_user": {"id": user_id},
        "is_enterprise_install": False,
    }
    if rotating:
        refresh = f"xoxe-1-{secrets.token_hex(8)}"
        state.refresh_tokens[refresh] = team_id
        answer["refresh_token"] = refresh
        answer["expires_in"] = state.expires_in
    return answer


def _enterprise(state: OAuthState, team_id: str) -> dict[str, str] | None:
    grid = state.enterprises.get(team_id)
    return None if grid is None else {"id": grid[0], "name": grid[1]}


def revoke_team(state: OAuthState, team_id: str) -> None:
    for token, team in list(state.tokens.items()):
        if team == team_id:
            del state.tokens[token]
