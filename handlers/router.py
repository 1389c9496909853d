"""`/impact` routing: ack at once, find the subcommand, check who may use it, run it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.rendering.help import help_message
from bot.runtime.caller import Caller, identify
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from handlers._acks import ack_first

log = logging.getLogger(__name__)

COMMAND = "/impact"
TRY_AGAIN = ("Sorry, something went wrong on our side and nothing was changed. "
             "Please try again in a minute.")
DB_BUSY = "The database is busy right now and nothing was changed. Please try again."


@dataclass
class CommandContext:
    services: Services
    user_id: str
    channel_id: str
    team_id: str
    name: str  # the subcommand, lower-case
    args: str  # everything after it, as typed
    trigger_id: str
    client: WebClient
    respond: Respond
    command: str = COMMAND
    _caller: Caller | None = field(default=None, repr=False)

    def caller(self) -> Caller:
        if self._caller is None:
            with self.services.store.read_session() as session:
                self._caller = identify(session, self.user_id)
        return self._caller

    def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """An ephemeral answer, only to the person who asked."""
        payload: dict[str, Any] = {"text": text, "response_type": "ephemeral",
                                   "replace_original": False}
        if blocks:
            payload["blocks"] = blocks
        self.respond(**payload)

    def reply_message(self, message: dict[str, Any]) -> None:
        self.respond(response_type="ephemeral", replace_original=False, **message)


Handler = Callable[[CommandContext], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    admin_only: bool = False


class Router:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.subcommands: dict[str, Subcommand] = {}

    def add(self, name: str, handler: Handler, *, admin_only: bool = False,
            aliases: tuple[str, ...] = ()) -> None:
        for key in (name, *aliases):
            if key in self.subcommands:
                raise ValueError(f"subcommand {key!r} registered twice")
            self.subcommands[key] = Subcommand(name, handler, admin_only)

    def register(self, app: App) -> None:
        # The ack answers at once; the subcommand runs after it (handlers/_acks.py).
        ack_first(app.command(COMMAND), self.on_command)

    def on_command(self, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        name, _, args = text.partition(" ")
        ctx = CommandContext(
            services=self.services,
            user_id=body.get("user_id", ""),
            channel_id=body.get("channel_id", ""),
            team_id=body.get("team_id", ""),
            name=name.lower(),
            args=args.strip(),
            trigger_id=body.get("trigger_id", ""),
            client=client,
            respond=respond,
            command=body.get("command") or COMMAND,
        )
        self.dispatch(ctx)

    def dispatch(self, ctx: CommandContext) -> None:
        sub = self.subcommands.get(ctx.name)
        if sub is None:
            # Slack sends the typed text with &, < and > as entities; help_message escapes
            # the name it echoes, so it gets the text as typed (escaped once, not twice).
            unknown = _as_typed(ctx.name) if ctx.name and ctx.name != "help" else None
            ctx.reply_message(help_message(ctx.command, unknown=unknown,
                                           is_admin=is_admin(ctx.services, ctx.user_id)))
            return
        try:
            if sub.admin_only and not ctx.caller().is_admin:
                ctx.reply(f"Only backbone admins can use `{ctx.command} {sub.name}`. "
                          "Ask your backbone team if you need it.")
                return
            sub.handler(ctx)
        except UserError as exc:
            ctx.reply(str(exc))
        except OperationalError:
            log.warning("database unavailable during /impact %s", sub.name, exc_info=True)
            ctx.reply(DB_BUSY)
        except Exception:
            log.exception("/impact %s failed", sub.name)
            ctx.reply(TRY_AGAIN)


def _as_typed(text: str) -> str:
    """Undo Slack's escaping of slash command text (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_admin(services: Services, user_id: str) -> bool:
    """Whether the help shows the admins' lines; a database that cannot answer shows the
    help everyone reads rather than none."""
    try:
        with services.store.session() as session:
            return identify(session, user_id).is_admin
    except OperationalError:
        log.warning("database unavailable: the help shows everyone's lines", exc_info=True)
        return False
