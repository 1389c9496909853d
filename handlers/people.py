"""People's profiles: Slack's `user_change` event keeps the cached time zone current."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.reminders.timezones import note_user_change
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)


def register(app: App, services: Services, router: Router) -> None:
    def on_user_change(event: dict[str, Any]) -> None:
        # Sent when anyone in the workspace edits their profile, with the whole user object
        # (https://docs.slack.dev/reference/events/user_change/, scope users:read).
        if not note_user_change(services.store, event.get("user"), services.clock.now()):
            log.info("user_change event without a usable user; ignored")

    ack_first(app.event("user_change"), on_user_change)
