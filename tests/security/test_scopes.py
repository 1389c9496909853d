"""Least privilege: the manifest asks for exactly the scopes the code's Web API calls and
events need, nothing more (a stolen token can do no more than the bot does)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.runtime.manifest import BOT_EVENTS, BOT_SCOPES, manifest
from tests.support.world import ROOT

# Every Web API method the app may call (as slack_sdk names it) → the bot scopes it needs
# for the conversations the app uses it on. A method missing here fails the test below,
# so a new call cannot slip in without someone deciding its scope.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_getPermalink": set(),
    # Reminder DMs (im), messages people celebrate (public and private channels, DMs).
    # Group DMs (mpim) are deliberately not covered: wins there are not read.
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "conversations_info": {"channels:read", "groups:read"},
    # A DM (reminders) and a group DM introducing two people (intros, SPEC §12).
    "conversations_open": {"im:write", "mpim:write"},
    "users_info": {"users:read"},
    "views_open": set(),
    "views_publish": set(),
    "files_upload_v2": {"files:write"},
}
# What the manifest's features and events need besides Web API calls.
FEATURE_SCOPES = {"commands": "the /impact command and the message shortcut",
                  "reactions:read": "the reaction_added event"}
EVENT_SCOPES = {"reaction_added": {"reactions:read"}, "app_home_opened": set(),
                "app_uninstalled": set(), "tokens_revoked": set(),
                "message.im": {"im:history"}, "user_change": {"users:read"},
                "channel_unarchive": {"channels:read"},
                "group_unarchive": {"groups:read"},
                "member_joined_channel": {"channels:read", "groups:read"},
                "message.channels": {"channels:history"},
                "message.groups": {"groups:history"}}
CALL = re.compile(r"\.((?:chat|conversations|users|views|files|reactions|team|auth|apps|"
                  r"usergroups|pins|bookmarks|admin|search|im|mpim|groups|channels)"
                  r"_[A-Za-z0-9_]+)\(")


def _methods_called() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if "emulator" in path.parts:
                continue  # the fake Slack, not the app
            for method in CALL.findall(path.read_text()):
                found.setdefault(method, set()).add(str(Path(path).relative_to(ROOT)))
    return found


def test_every_web_api_method_the_code_calls_has_a_decided_scope() -> None:
    called = _methods_called()

    assert "chat_postMessage" in called and "files_upload_v2" in called  # the scan works
    assert set(called) - set(METHOD_SCOPES) == set(), called


def test_the_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    needed = set().union(*(METHOD_SCOPES[m] for m in _methods_called()))
    needed |= set(FEATURE_SCOPES)
    needed |= set().union(*(EVENT_SCOPES[e] for e in BOT_EVENTS))

    assert set(BOT_SCOPES) == needed


def test_the_manifest_has_no_user_scopes_and_subscribes_only_to_handled_events() -> None:
    data = manifest("https://impact.example.org")

    assert set(data["oauth_config"]["scopes"]) == {"bot"}
    assert data["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert set(BOT_EVENTS) == set(EVENT_SCOPES)
    assert data["settings"]["org_deploy_enabled"] is False
    broad = [s for s in BOT_SCOPES if s.startswith(("admin", "users:read.email", "mpim:",
                                                   "chat:write.customize", "chat:write.public"))]
    # Group DMs: only opened (intros), never read (no mpim:history, mpim:read).
    assert broad == ["mpim:write"]
