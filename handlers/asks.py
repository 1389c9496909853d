"""Ask the initiative: `/impact ask TEXT [for KEY]`, and replies in a question's thread
kept as answers (`message` events from channels: message.channels, message.groups)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.asks import questions
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import CommandContext, Router


def register(app: App, services: Services, router: Router) -> None:
    def on_reply(event: dict[str, Any]) -> None:
        questions.collect_answer(services, event)

    # Only thread replies in channels match here; every other `message` event (the app's
    # Messages tab) goes on to handlers/messages_tab.py: Bolt runs the first listener
    # whose matchers accept the event.
    ack_first(app.event("message", matchers=[
        lambda event: questions.is_thread_reply(event)]), on_reply)
    router.add("ask", lambda ctx: ask(services, ctx))


def ask(services: Services, ctx: CommandContext) -> None:
    asked = questions.ask(services, ctx.client, ctx.user_id, ctx.args)
    link = f" <{asked.link}|See it>" if asked.link else ""
    told = (f" I let {asked.told} member{'s' if asked.told != 1 else ''} of the partners that "
            "report it know." if asked.measure_name else "")
    ctx.reply(f":raising_hand: Your question is posted in <#{asked.channel}>.{link}{told} "
              "Answers in its thread are kept for `/impact learn`.")
