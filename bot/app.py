"""The Bolt app factory: the same app serves Slack, the console, the tests and benchmarks."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot.events import claim_event
from bot.services import Services

log = logging.getLogger(__name__)


def create_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    settings = services.settings
    kwargs: dict[str, Any] = {
        "signing_secret": settings.signing_secret or "",
        "client": services.client(),
        # Answer Slack first, work after: listeners run in the executor once ack() returns.
        "process_before_response": False,
        # auth.test runs lazily on the first request, not at import time.
        "token_verification_enabled": False,
        "raise_error_for_unhandled_request": True,
        "logger": logging.getLogger("bot.slack"),
    }
    if listener_executor is not None:
        kwargs["listener_executor"] = listener_executor
    app = App(**kwargs)

    @app.middleware
    def drop_redelivered_events(body: dict[str, Any], next: Any) -> Any:
        # Slack redelivers events it thinks we missed; Bolt does not de-duplicate them.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not claim_event(services, str(event_id)):
            log.info("event %s already handled; ignoring the redelivery", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Subscribed-but-unhandled events get 200 so Slack does not retry them.
            return BoltResponse(status=200, body="")
        log.error("unhandled error in a listener: %s", type(error).__name__, exc_info=error)
        return None

    from handlers import register_all

    register_all(app, services)
    return app
