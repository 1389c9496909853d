"""The Slack Web API client every part of the bot uses: our base URL and retry rules."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.runtime.settings import Settings

# Retries happen inside slack_sdk: 429 (it sleeps for Retry-After: Slack did nothing),
# and connection errors and 5xx with backoff — but those two only for calls that are safe
# to repeat. A 500 or a dropped connection after chat.postMessage may come after Slack
# posted the message; repeating it blindly is how bots post twice. Those calls fail
# instead, and the claim in our database (with its lease and the history check on retry)
# decides whether and when to send again.
RATE_LIMIT_RETRIES = 5
SERVER_ERROR_RETRIES = 3
NOT_SAFE_TO_REPEAT = frozenset({
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.scheduleMessage",
    "files.completeUploadExternal",
})


def _method_of(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class _OnlyIfSafeToRepeat(RetryHandler):
    """Mixed in before a slack_sdk handler: its rule, but never for a post."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None,
                   ) -> bool:
        return _method_of(request) not in NOT_SAFE_TO_REPEAT and super()._can_retry(
            state=state, request=request, response=response, error=error)


class _SafeServerErrorRetry(_OnlyIfSafeToRepeat, ServerErrorRetryHandler):
    pass


class _SafeConnectionErrorRetry(_OnlyIfSafeToRepeat, ConnectionErrorRetryHandler):
    pass


def make_client(settings: Settings, token: str | None = None, *, timeout: int = 15) -> WebClient:
    return WebClient(
        token=token or settings.bot_token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=[
            _SafeConnectionErrorRetry(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            _SafeServerErrorRetry(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )


_TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                     "request_timeout"}


class SlackUnavailable(Exception):
    """Slack could not answer just now; the same call may work in a minute."""


def is_transient(exc: Exception) -> bool:
    """A Slack failure worth retrying later (not a refusal such as channel_not_found)."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return status >= 500 or status == 429 or exc.response.get("error") in _TRANSIENT_ERRORS
    return isinstance(exc, OSError | TimeoutError)  # connection refused, reset, timed out
