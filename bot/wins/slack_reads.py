"""What the wins flow reads from Slack: the channel, the reacted message, links, people.

A read Slack cannot answer right now (an outage, a rate limit) raises `SlackUnavailable`,
so the flow can keep the event for later; a refusal (no access) answers None.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.runtime.services import Services
from bot.runtime.slack_client import SlackUnavailable, is_transient
from storage.db import tenant_key
from storage.models import SlackUser

log = logging.getLogger(__name__)


def channel_info(client: WebClient, channel_id: str) -> dict[str, Any] | None:
    try:
        info = client.conversations_info(channel=channel_id).get("channel")
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("cannot see channel %s: %s", channel_id, _error(exc))
        return None
    return info if isinstance(info, dict) else None


class _ShortRateLimitWaits(RateLimitErrorRetryHandler):
    """slack_sdk's 429 rule, but only for a short Retry-After (a brief burst)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None,
                   ) -> bool:
        if response is None or response.status_code != 429:
            return False
        waits = [v for k, v in response.headers.items() if k.lower() == "retry-after"]
        try:
            return int(waits[0][0]) <= SHORT_WAIT
        except (IndexError, TypeError, ValueError):
            return False


SHORT_WAIT = 2  # seconds of Retry-After a read may sleep out in a listener thread


def without_long_waits(client: WebClient) -> WebClient:
    """The same client, but a 429 with a long Retry-After answers at once.

    Under Slack's 2025 Tier-1 profile `conversations.history` allows 1 call a minute; a
    worker sleeping that out (5 times over) would hold a listener thread for minutes while
    other people's answers wait. Such a read raises `SlackUnavailable`, and the reaction is
    kept and replayed by the wins tick instead."""
    handlers = [_ShortRateLimitWaits(max_retry_count=h.max_retry_count)
                if isinstance(h, RateLimitErrorRetryHandler) else h
                for h in client.retry_handlers]
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                     retry_handlers=handlers)


def fetch_message(client: WebClient, channel_id: str, ts: str) -> dict[str, Any] | None:
    """The message at `ts`, top-level or a thread reply; None when the bot cannot read it."""
    client = without_long_waits(client)
    try:
        history = client.conversations_history(channel=channel_id, latest=ts, inclusive=True,
                                               limit=1)
        for message in history.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
        # Not top level: a reply in a thread. `conversations.replies` accepts a reply's ts.
        replies = client.conversations_replies(channel=channel_id, ts=ts, latest=ts,
                                               oldest=ts, inclusive=True, limit=10)
        for message in replies.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("cannot read message %s in %s: %s", ts, channel_id, _error(exc))
    return None


def _error(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) else type(exc).__name__


def permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
    try:
        link = client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", channel_id, ts, exc.response.get("error"))
        return None
    return link if isinstance(link, str) else None


def is_person(services: Services, client: WebClient, user_id: str,
              bot_user_id: str | None) -> bool:
    """Bots' reactions never count (people's are the celebration)."""
    if user_id == bot_user_id:
        return False
    with services.store.session() as session:
        cached = session.get(SlackUser, tenant_key(session, user_id))
        if cached is not None:
            return not cached.is_bot
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("users.info %s failed (%s); not counting the reaction", user_id, _error(exc))
        return False
    return not (user.get("is_bot") or user.get("is_app_user") or user.get("deleted"))
