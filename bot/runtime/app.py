"""The Bolt app factory: the same app serves Slack, the console, the tests and benchmarks."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot.runtime.events import KEPT, KEPT_EVENTS, claim_event
from bot.runtime.executor import ContextExecutor
from bot.runtime.services import Services
from bot.runtime.slack_client import make_client

log = logging.getLogger(__name__)


class _WithoutTokenUnusedNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and then warns that it is unused because we pass
    our own client (which holds that token, the API URL and the retry handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack")
    if not any(isinstance(f, _WithoutTokenUnusedNotice) for f in logger.filters):
        logger.addFilter(_WithoutTokenUnusedNotice())
    return logger


def create_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    settings = services.settings
    kwargs: dict[str, Any] = {
        "signing_secret": settings.signing_secret or "",
        # Single-workspace: the bot token. Multi-workspace: no token here; Bolt's
        # authorize picks each request's workspace token from the installation store.
        "client": make_client(settings, None if settings.oauth else settings.bot_token),
        # Answer Slack first, work after: each listener's ack function answers in the
        # request thread, and its Web API work runs afterwards as a lazy listener in the
        # executor (handlers/_acks.py), so acks never wait behind Web API calls.
        "process_before_response": True,
        # auth.test runs lazily on the first request, not at import time.
        "token_verification_enabled": False,
        "raise_error_for_unhandled_request": True,
        "logger": _bolt_logger(),
    }
    kwargs["listener_executor"] = listener_executor or ContextExecutor()
    if settings.oauth:
        from bot.tenancy.oauth import oauth_settings

        kwargs["oauth_settings"] = oauth_settings(settings, services.store, services.clock)
    app = App(**kwargs)
    if settings.oauth:
        _register_workspaces(app, services)
    else:
        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        def on_revoked_single(ack: Any, event: dict[str, Any]) -> None:
            ack()
            log.warning("Slack says %s: the bot token in SLACK_BOT_TOKEN no longer works; "
                        "reinstall the app and update .env", event.get("type"))

    @app.middleware
    def drop_nul_characters(body: dict[str, Any], next: Any) -> Any:
        # PostgreSQL text cannot hold NUL; a request carrying one would fail mid-write.
        # Nobody means a NUL in Slack text, so it goes before any listener sees the body.
        _strip_nul(body)
        return next()

    @app.middleware
    def drop_redelivered_events(body: dict[str, Any], context: Any, next: Any) -> Any:
        # Slack redelivers events it thinks we missed; Bolt does not de-duplicate them.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        kind = KEPT_EVENTS.get(str(event.get("type")))
        keep = None if kind is None else (
            kind, {"event": event, "bot_user_id": context.bot_user_id})
        claimed = claim_event(services, str(event_id), keep)
        if claimed is False:
            log.info("event %s already handled; ignoring the redelivery", event_id)
            return BoltResponse(status=200, body="")
        if claimed is not True:
            context[KEPT] = claimed
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


def _strip_nul(node: Any) -> Any:
    """Remove NUL characters from every string in a request body, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _strip_nul(value)
    elif isinstance(node, list):
        node[:] = [_strip_nul(value) for value in node]
    elif isinstance(node, str) and "\x00" in node:
        return node.replace("\x00", "")
    return node


def _register_workspaces(app: App, services: Services) -> None:
    """Multi-workspace mode: every request works in its own workspace's tenant."""
    from bot.tenancy.authorize import TENANT
    from bot.tenancy.oauth import TenantCache, revoke
    from storage.tenancy import current_team

    tenants = TenantCache(services.store)

    @app.middleware
    def in_workspace_tenant(context: Any, body: dict[str, Any], next: Any) -> Any:
        team_id = context.team_id or (body.get("team") or {}).get("id")
        found = context.authorize_result or {}
        if TENANT in found and found.get("team_id") == team_id:
            tenant = found[TENANT]  # read with the bot token, in the same query
        else:
            tenant = tenants.get(team_id)
        if tenant is None:
            # Authorized by Slack but not (or no longer) installed here: touch nothing.
            log.warning("request from workspace %s, which has no installation", team_id)
            return BoltResponse(status=200, body="")
        # Bolt runs the listeners after every middleware has returned, so the tenant stays
        # set for the rest of this request: each HTTP request starts in a fresh context
        # (bot/runtime/web.py), and the executor hands this one on to the listeners it runs.
        current_team.set(tenant)
        return next()

    @app.event("app_uninstalled")
    @app.event("tokens_revoked")
    def on_revoked(ack: Any, event: dict[str, Any], context: Any) -> None:
        ack()
        revoke(services.store, services.settings, services.clock, event,
               context.team_id, context.enterprise_id)
        tenants.forget(context.team_id)
