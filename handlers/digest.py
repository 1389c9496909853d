"""`/impact digest`: backbone admins preview this week's digest, only to themselves."""

from __future__ import annotations

from slack_bolt import App

from bot.digest.posting import preview_message
from bot.runtime.services import Services
from handlers.router import CommandContext, Router


def register(app: App, services: Services, router: Router) -> None:
    router.add("digest", preview_digest, admin_only=True)


def preview_digest(ctx: CommandContext) -> None:
    _data, rendered = preview_message(ctx.services, ctx.services.clock.now())
    note = ("Preview, only you can see it; it is posted to the backbone channel on schedule."
            if not rendered.thread else
            "Preview of the summary, only you can see it; partner and measure details go "
            "in its thread when it is posted.")
    ctx.reply(f"{note}\n{rendered.main.text}", rendered.main.blocks)
