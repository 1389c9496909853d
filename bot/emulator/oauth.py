"""OAuth v2 in the emulator: install codes, per-workspace bot tokens, token rotation.

`oauth.v2.access` exchanges a code the test issued (`issue_oauth_code`) or a refresh token
for a bot token of that workspace; every later Web API call with that token acts for it
(`auth.test` answers its team).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.emulator.server import SlackEmulator

EXPIRES_IN = 12 * 60 * 60  # seconds a rotating token lives, as Slack issues them


@dataclass
class OAuthState:
    client_id: str = "1111.2222"
    client_secret: str = "emulator-client-secret"
    teams: dict[str, str] = field(default_factory=dict)  # team id -> name
    tokens: dict[str, str] = field(default_factory=dict)  # live bot token -> team id
    # code -> (team, user, rotating)
    codes: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> team id
    expires_in: int = EXPIRES_IN


class OAuthFailure(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def issue_code(state: OAuthState, team_id: str, user_id: str, rotating: bool) -> str:
    code = f"code-{secrets.token_hex(8)}"
    state.codes[code] = (team_id, user_id, rotating)
    return code


def team_of_token(emu: SlackEmulator, token: str) -> str | None:
    if token == emu.bot_token:
        return emu.team_id
    return emu.oauth.tokens.get(token)


def access(emu: SlackEmulator, params: dict[str, Any]) -> dict[str, Any]:
    """oauth.v2.access: a code (install) or a refresh token (rotation) for a bot token."""
    state = emu.oauth
    if (params.get("client_id"), params.get("client_secret")) != (state.client_id,
                                                                  state.client_secret):
        raise OAuthFailure("invalid_client_id")
    if params.get("grant_type") == "refresh_token":
        team_id = state.refresh_tokens.pop(str(params.get("refresh_token")), None)
        if team_id is None:
            raise OAuthFailure("invalid_refresh_token")
        for token, team in list(state.tokens.items()):
            if team == team_id:
                del state.tokens[token]  # the old token stops working
        return _grant(emu, team_id, "U0INSTALLER", rotating=True)
    grant = state.codes.pop(str(params.get("code")), None)
    if grant is None:
        raise OAuthFailure("invalid_code")
    team_id, user_id, rotating = grant
    return _grant(emu, team_id, user_id, rotating)


def _grant(emu: SlackEmulator, team_id: str, user_id: str, rotating: bool) -> dict[str, Any]:
    state = emu.oauth
    token = f"xoxb-{team_id}-{secrets.token_hex(6)}"
    state.tokens[token] = team_id
    answer: dict[str, Any] = {
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": emu.bot_user_id,
        "app_id": emu.app_id,
        "team": {"id": team_id, "name": state.teams.get(team_id, team_id)},
        "enterprise": None,
        "authed_user": {"id": user_id},
        "is_enterprise_install": False,
    }
    if rotating:
        refresh = f"xoxe-1-{secrets.token_hex(8)}"
        state.refresh_tokens[refresh] = team_id
        answer["refresh_token"] = refresh
        answer["expires_in"] = state.expires_in
    return answer


def revoke_team(state: OAuthState, team_id: str) -> None:
    for token, team in list(state.tokens.items()):
        if team == team_id:
            del state.tokens[token]
