"""Intros: `/impact connect [KEY]`, `/impact connect off|on`, and the check-back buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.connect import intros
from bot.connect import messages as cm
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)


def register(app: App, services: Services, router: Router) -> None:
    router.add("connect", lambda ctx: ctx.reply(
        intros.connect_command(services, ctx.client, ctx.user_id, ctx.args)))

    def on_answer(met: bool) -> Any:
        def answer(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            value = str(((body.get("actions") or [{}])[0]).get("value") or "")
            user = (body.get("user") or {}).get("id") or ""
            if not (value.isdigit() and 0 < int(value) < 2**31):
                return
            if not intros.answer(services, int(value), user, met):
                tell_privately(client, user, {"text": "Only the two people introduced can "
                                                      "answer."},
                               respond=respond if body.get("response_url") else None)
                return
            container = body.get("container") or {}
            try:
                client.chat_update(channel=container.get("channel_id") or "",
                                   ts=container.get("message_ts") or "",
                                   **cm.checkback_answered(user, met))
            except SlackApiError as exc:
                log.info("could not update the check-back: %s", exc.response.get("error"))
        return answer

    ack_first(app.action(cm.MET_YES), on_answer(True))
    ack_first(app.action(cm.MET_NO), on_answer(False))
