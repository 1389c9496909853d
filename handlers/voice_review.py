"""Approve / Discard on community voice from the public form (bot/agenda/voice_review.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.agenda.voice import APPROVE, DISCARD
from bot.agenda.voice_review import Decision, review_voice, reviewed_message
from bot.runtime.caller import identify
from bot.runtime.replies import replace_clicked, tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)

ONLY_ADMINS = ("Only the backbone's admins (initiative.admins) can approve or discard "
               "community voice. Nothing was changed.")


def register(app: App, services: Services, router: Router) -> None:
    del router

    def on_review(decision: Decision) -> Any:
        def answer(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            action = (body.get("actions") or [{}])[0]
            try:
                voice_id = int(action.get("value") or "")
            except ValueError:
                return
            if not 0 < voice_id < 2**31:
                return
            user = str((body.get("user") or {}).get("id") or "")
            reply = respond if body.get("response_url") else None
            with services.store.session() as session:
                caller = identify(session, user)
            if not caller.is_admin:
                tell_privately(client, user, {"text": ONLY_ADMINS}, respond=reply)
                return
            review = review_voice(services.store, voice_id, decision, services.clock.now())
            if review.outcome == "gone":
                return
            if review.outcome == "already":
                tell_privately(client, user, {"text": f"This voice was already {review.status}; "
                                                      "nothing was changed."}, respond=reply)
            replace_clicked(client, body, reviewed_message(
                review.text, review.status, user if review.outcome == "decided" else None),
                "voice review message")
        return answer

    ack_first(app.action(APPROVE), on_review("approved"))
    ack_first(app.action(DISCARD), on_review("discarded"))
