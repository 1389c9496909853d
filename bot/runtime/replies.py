"""Saying something to one person only, the first way Slack allows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def tell_privately(client: WebClient, user_id: str, message: Mapping[str, Any], *,
                   respond: Respond | None = None, channel: str | None = None) -> bool:
    """Say `message` (text and blocks) to `user_id` alone; returns whether it was said.

    In order: ephemeral through `respond` (pass it only when the payload had a response_url,
    i.e. a button under a message); else a DM from the app (a button in a view — App Home, a
    modal — has no message to answer under); else, when `channel` is given, an ephemeral
    message there (the app's Messages tab can be turned off). Slack errors are logged, not
    raised: what the person did has already been done, only the telling failed.
    """
    if respond is not None:
        respond(response_type="ephemeral", replace_original=False, **message)
        return True
    if not user_id:
        return False
    try:
        client.chat_postMessage(channel=user_id, **message)
        return True
    except SlackApiError as exc:
        log.warning("could not DM %s: %s", user_id, exc.response.get("error"))
    if not channel:
        return False
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, **message)
        return True
    except SlackApiError as exc:
        log.warning("could not tell %s in %s either: %s", user_id, channel,
                    exc.response.get("error"))
    return False


def replace_clicked(client: WebClient, body: Mapping[str, Any], message: Mapping[str, Any],
                    what: str) -> None:
    """Replace the message whose button was clicked (its buttons with the answer, so nobody
    clicks twice). A failure is logged, not raised: the answer itself is already kept.
    `what` names the message in that log line."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    if not (channel and ts):
        return
    try:
        client.chat_update(channel=channel, ts=ts, **message)
    except SlackApiError as exc:
        log.info("could not update the %s: %s", what, exc.response.get("error"))
