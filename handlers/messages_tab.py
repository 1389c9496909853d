"""The Messages tab: a person who writes to the app directly gets the help, once per message.

Subscribed as `message.im` (scope `im:history`). Only people's own new messages are answered:
the app's own posts, other bots, edits and deletions (any `subtype`) are not, so the app never
answers itself.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rendering.help import help_message
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import COMMAND, Router, is_admin

log = logging.getLogger(__name__)


def is_person_writing_to_the_app(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A new message by a person in a DM with the app (not the app's, not a bot's, no edit)."""
    return (event.get("channel_type") == "im" and not event.get("subtype")
            and not event.get("bot_id") and not event.get("bot_profile")
            and bool(event.get("user")) and event.get("user") != bot_user_id)


def register(app: App, services: Services, router: Router) -> None:
    def on_direct_message(event: dict[str, Any], client: WebClient,
                          context: dict[str, Any]) -> None:
        if not is_person_writing_to_the_app(event, context.get("bot_user_id")):
            return
        channel = str(event.get("channel") or "")
        try:
            # A reply in a thread (e.g. under a reminder) is answered in that thread.
            answer: dict[str, Any] = dict(help_message(
                COMMAND, is_admin=is_admin(services, str(event.get("user")))))
            client.chat_postMessage(channel=channel, thread_ts=event.get("thread_ts"), **answer)
        except SlackApiError as exc:
            log.warning("could not answer a message in the Messages tab: %s",
                        exc.response.get("error"))

    # Answered after the ack, like every listener (handlers/_acks.py).
    ack_first(app.event("message"), on_direct_message)
