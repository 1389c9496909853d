"""Opening a modal, and what to tell the person when Slack refuses.

A `trigger_id` opens one view within 3 seconds of the click or command (Slack answers
`expired_trigger_id` or `exchanged_trigger_id` after that; docs.slack.dev/reference/methods/
views.open, "Errors"). When Slack refuses, the person gets a short private note to try again
instead of silence or "something went wrong".
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.runtime.errors import UserError

log = logging.getLogger(__name__)

TOO_SLOW = ("Slack gave me only a moment to open the form and it passed before I could. "
            "Please try again.")
NOT_OPENED = ("Sorry, I couldn't open the form just now. Please try again; if it keeps "
              "happening, tell your backbone team.")
_TRIGGER_ERRORS = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")


class ModalNotOpened(UserError):
    """Slack refused to open the modal; the message says what the person can do."""


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """`views.open` with the trigger, or raise `ModalNotOpened` (the app pushes no views;
    a `views.push` would go through here the same way)."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("Slack did not open the %s modal: %s", view.get("callback_id") or "", error)
        raise ModalNotOpened(TOO_SLOW if error in _TRIGGER_ERRORS else NOT_OPENED) from exc
