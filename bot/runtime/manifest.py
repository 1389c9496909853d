"""The Slack app manifest: Socket Mode by default, HTTP when given a public URL."""

from __future__ import annotations

from typing import Any

import yaml

# Only what the features need (least privilege), with the reason beside each scope.
BOT_SCOPES: dict[str, str] = {
    "commands": "the /impact slash command and the Share as a win shortcut",
    "chat:write": "reminders, wins, digests and answers",
    "im:write": "open a DM to recover an interrupted reminder send",
    "mpim:write": "open the group DM that introduces two partner members (/impact connect, "
                  "scheduled intros: conversations.open with both)",
    "im:history": "answer messages sent to the app's Messages tab (message.im); check a "
                  "reminder DM was not already delivered before re-sending",
    "channels:history": "read the message people reacted to (public channels); hear replies "
                        "in a question's thread (message.channels)",
    "groups:history": "read the message people reacted to (private channels); hear replies "
                      "in a question's thread (message.groups)",
    "channels:read": "tell public from private channels before sharing a win; hear that a "
                     "channel was unarchived or the bot invited back (channel_unarchive, "
                     "member_joined_channel)",
    "groups:read": "tell public from private channels before sharing a win; the same events "
                   "for private channels (group_unarchive, member_joined_channel)",
    "reactions:read": "receive reaction_added events",
    "users:read": "people's time zones, so reminders arrive in their morning (users.info, "
                  "and the user_change event when someone changes theirs)",
    "files:write": "upload the weekly digest chart",
}
# channel_unarchive, group_unarchive and member_joined_channel (the bot invited back) resume
# posts parked for a channel at once (handlers/channels.py); they need channels:read and
# groups:read, which the bot has already.
# message.channels and message.groups: replies in a question's thread are kept as answers
# (handlers/asks.py); they need channels:history and groups:history, which the bot has.
BOT_EVENTS = ("reaction_added", "app_home_opened", "app_uninstalled", "tokens_revoked",
              "message.im", "user_change", "channel_unarchive",
              "group_unarchive", "member_joined_channel", "message.channels", "message.groups")
SHORTCUT_CALLBACK = "share_as_win"


def manifest(url: str | None = None) -> dict[str, Any]:
    """The manifest as a dict; `url` is the public base URL for HTTP mode."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    command: dict[str, Any] = {
        "command": "/impact",
        "description": "Report measures, share wins, see progress",
        "usage_hint": "help | report KEY VALUE | measures | status | win TEXT | voice TEXT",
        "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    event_subscriptions: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    if events_url:
        command["url"] = events_url
        interactivity["request_url"] = events_url
        event_subscriptions["request_url"] = events_url
    settings: dict[str, Any] = {
        "event_subscriptions": event_subscriptions,
        "interactivity": interactivity,
        "org_deploy_enabled": False,
        "socket_mode_enabled": url is None,
        "token_rotation_enabled": False,
    }
    return {
        "display_information": {
            "name": "Impact Bot",
            "description": "The backbone's assistant for a collective impact initiative",
            "background_color": "#2c5f2d",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": False},
            "bot_user": {"display_name": "Impact Bot", "always_online": True},
            "slash_commands": [command],
            "shortcuts": [{"name": "Share as a win", "type": "message",
                           "callback_id": SHORTCUT_CALLBACK,
                           "description": "Share this message in the wins channel"}],
        },
        "oauth_config": _oauth_config(url),
        "settings": settings,
    }


def _oauth_config(url: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if url:  # multi-workspace installs come back here (SLACK_CLIENT_ID/SECRET set)
        config["redirect_urls"] = [f"{url.rstrip('/')}/slack/oauth_redirect"]
    return config


def render_manifest(url: str | None = None) -> str:
    header = ("# Slack app manifest for Impact Bot "
              + ("(HTTP mode)\n" if url else "(Socket Mode; `impactbot manifest --url "
                 "https://your.host` prints the HTTP variant)\n"))
    return header + yaml.safe_dump(manifest(url), sort_keys=False, allow_unicode=True)
