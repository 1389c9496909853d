"""The App Home tab: published when a person opens it (who is then kept current, in the
background, after changes: bot/home/refresh.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.home.refresh import note_opened, publish_home
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)

__all__ = ["publish_home", "register"]


def register(app: App, services: Services, router: Router) -> None:
    def on_app_home_opened(event: dict[str, Any], client: WebClient,
                           context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to publish
        user_id = event.get("user")
        if not isinstance(user_id, str) or not user_id:
            return
        try:
            note_opened(services.store, user_id, context.team_id, services.clock.now())
        except Exception:
            # The Home is still published; it is only not refreshed after changes until
            # it is next opened.
            log.warning("could not note that a Home was opened", exc_info=True)
        publish_home(services, client, user_id)

    ack_first(app.event("app_home_opened"), on_app_home_opened)
