"""`/impact learn WORDS`: search what the initiative has shared (bot/learn/)."""

from __future__ import annotations

from slack_bolt import App

from bot.learn.view import learn
from bot.runtime.services import Services
from handlers.router import Router


def register(app: App, services: Services, router: Router) -> None:
    router.add("learn", lambda ctx: ctx.reply_message(learn(services, ctx.client, ctx.args)))
