"""The App Home tab: published when a person opens it, and after they report or commit."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home.view import home_view
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)


def publish_home(services: Services, client: WebClient, user_id: str) -> bool:
    """Build and publish `user_id`'s Home tab. Other features call this after a change
    (a report, a commitment). Answers whether Slack accepted it; never raises for Slack."""
    with services.store.session() as session:
        view = home_view(session, user_id, services.clock.now())
    try:
        client.views_publish(user_id=user_id, view=view)
        return True
    except SlackApiError as exc:
        log.warning("views.publish failed: %s", exc.response.get("error"))
        return False


def register(app: App, services: Services, router: Router) -> None:
    def on_app_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to publish
        user_id = event.get("user")
        if user_id:
            publish_home(services, client, str(user_id))

    ack_first(app.event("app_home_opened"), on_app_home_opened)
