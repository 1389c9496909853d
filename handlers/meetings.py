"""`/impact meeting`, `/impact meeting add TEXT`, `/impact meeting notes` and the notes
modal (SPEC §11)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.meetings import notes
from bot.reminders.timezones import cached_zone
from bot.rendering import dates
from bot.runtime.caller import identify, require_initiative
from bot.runtime.errors import UserError
from bot.runtime.modals import open_view
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import CommandContext, Router

RECORDED = "meeting_recorded"


def _as_typed(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def meeting_command(ctx: CommandContext) -> None:
    now = ctx.services.clock.now()
    verb, _, rest = ctx.args.partition(" ")
    verb = verb.lower()
    if verb == "add":
        with ctx.services.store.session() as session:
            occ = notes.add_item(session, ctx.caller(), _as_typed(rest), now)
        ctx.reply(f"Added to the agenda of {occ.meeting.name} on "
                  f"{dates.action_day(occ.on or occ.scheduled, now.date())}.")
        return
    if verb == "notes":
        caller = ctx.caller()
        if not (caller.is_member or caller.is_admin):
            raise UserError("Only partner members and the backbone team record meeting notes.")
        with ctx.services.store.session() as session:
            occ = notes.latest_occurrence(session, now, caller, rest.strip().lower() or None)
        open_view(ctx.client, ctx.trigger_id, notes.notes_modal(occ, now.date()))
        return
    if verb:
        raise UserError("Meetings: `/impact meeting` (your next one and its agenda), "
                        "`/impact meeting add [KEY:] TEXT`, `/impact meeting notes [KEY]`.")
    caller = ctx.caller()
    with ctx.services.store.session() as session:
        message = notes.show_next(session, now, caller)
    ctx.reply_message(message)


def register(app: App, services: Services, router: Router) -> None:
    router.add("meeting", meeting_command, aliases=("meetings",))

    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        view = body.get("view") or {}
        values = (view.get("state") or {}).get("values") or {}
        now = services.clock.now()
        try:
            with services.store.session() as session:
                zone = require_initiative(session).timezone
            # (A session at a time: on SQLite each one holds the write lock.)
            today = now.astimezone(cached_zone(services.store, user_id, ZoneInfo(zone))).date()
            with services.store.session() as session:
                caller = identify(session, user_id)
                recorded = notes.record_notes(session, caller,
                                              str(view.get("private_metadata") or ""),
                                              values, today, now)
        except UserError as exc:
            block, _, reason = str(exc).partition(": ")
            ack(response_action="errors", errors={block: reason[:150] or str(exc)[:150]})
            return
        ack()
        context[RECORDED] = recorded

    def after_submit(client: WebClient, context: BoltContext) -> None:
        recorded = context.get(RECORDED)
        if recorded is not None:
            notes.follow_up(services, client, recorded, services.clock.now())

    ack_first(app.view(notes.NOTES_CALLBACK), after_submit, acknowledge=on_submit)
