"""`/impact story KEY [TEXT]`, the story modal, and the offer after a report (SPEC §10)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.measures.stories import (
    CALLBACK_ID,
    OPEN_ACTION,
    parts_from_view,
    record_story,
    story_modal,
)
from bot.runtime.errors import UserError
from bot.runtime.modals import open_view
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.reporting import slack_unescape
from handlers.router import CommandContext, Router

ANSWER = "story_answer"  # Bolt context key: the answer, for after the ack
STORY_OPEN = re.compile(rf"^{OPEN_ACTION}:.+$")


def register(app: App, services: Services, router: Router) -> None:
    def story(ctx: CommandContext) -> None:
        key, _, text = slack_unescape(ctx.args).strip().partition(" ")
        if not key:
            raise UserError("Which measure? `/impact story KEY` opens the form; "
                            "`/impact story KEY TEXT` keeps a short story.")
        if text.strip():
            ctx.reply(record_story(services.store, ctx.user_id, key, {"helping": text},
                                   services.clock.now()))
            return
        open_view(ctx.client, ctx.trigger_id, story_modal(services.store, ctx.user_id, key))

    router.add("story", story)

    def open_story(body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   respond: Respond) -> None:
        user_id = body["user"]["id"]
        key = str(action.get("action_id", "")).partition(":")[2]
        try:
            open_view(client, body["trigger_id"], story_modal(services.store, user_id, key))
        except UserError as exc:
            tell_privately(client, user_id, {"text": str(exc)},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action(STORY_OPEN), open_story)

    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any],
               context: BoltContext) -> None:
        key, parts = parts_from_view(view)
        try:
            answer = record_story(services.store, body["user"]["id"], key, parts,
                                  services.clock.now())
        except UserError as exc:
            ack(response_action="errors", errors={"helping": str(exc)[:300]})
            return
        ack()
        context[ANSWER] = answer

    def told(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        answer = context.get(ANSWER)
        if isinstance(answer, str):
            tell_privately(client, body["user"]["id"], {"text": answer})

    ack_first(app.view(CALLBACK_ID), told, acknowledge=submit)
