"""`/impact action …`, `/impact actions …`, the App Home's action modal and the DM's
"Mark done" button (SPEC §11)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from bot.actions import parse, view
from bot.actions.store import add_action, change_status, is_key, list_actions
from bot.reminders.timezones import cached_zone
from bot.rendering import blocks as bk
from bot.runtime.caller import identify, require_initiative
from bot.runtime.errors import UserError
from bot.runtime.modals import ModalNotOpened, open_view
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.home import publish_home
from handlers.router import CommandContext, Router
from storage.models import Measure

log = logging.getLogger(__name__)

ACTION_USAGE = ("`/impact action add TEXT [@owner] [due DATE] [for KEY]`, "
                "`/impact action done ID`, `/impact action ID TEXT` (a status update), "
                "`/impact actions [mine|all|KEY]`.")
ADDED = "added_action"  # Bolt context key: the owner to refresh the Home of, after the ack


def _today(services: Services, user_id: str) -> date:
    with services.store.session() as session:
        tz = require_initiative(session).timezone
    return services.clock.now().astimezone(
        cached_zone(services.store, user_id, ZoneInfo(tz))).date()


def _as_typed(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def action_command(ctx: CommandContext) -> None:
    services, now = ctx.services, ctx.services.clock.now()
    verb, _, rest = ctx.args.partition(" ")
    verb = verb.lower()
    if verb == "add":
        request = parse.parse_add(_as_typed(rest))
        today = _today(services, ctx.user_id)
        with services.store.session() as session:
            action = add_action(session, ctx.caller(), request, today, now)
            number, owner, due = action.id, action.owner_id, action.due_date
        due_text = f", due {due.isoformat()}" if due else ""
        ctx.reply(f"Added action #{number} for <@{owner}>{due_text}: "
                  f"{bk.safe_user_text(request.title)}")
        _refresh(services, ctx.client, {ctx.user_id, owner})
        return
    if verb in ("done", "drop"):
        status: Any = "done" if verb == "done" else "dropped"
        with services.store.session() as session:
            action = change_status(session, ctx.caller(), rest, "", status, now)
            number, owner = action.id, action.owner_id
        ctx.reply(f"Action #{number} is {status}. Its reminders stop.")
        _refresh(services, ctx.client, {ctx.user_id, owner})
        return
    if verb.lstrip("#").isdigit():
        with services.store.session() as session:
            action = change_status(session, ctx.caller(), verb, _as_typed(rest), None, now)
            number, state, owner = action.id, action.status, action.owner_id
        ctx.reply(f"Noted on action #{number} (now {state}).")
        _refresh(services, ctx.client, {ctx.user_id, owner})
        return
    raise UserError("Actions: " + ACTION_USAGE)


def actions_command(ctx: CommandContext) -> None:
    which = ctx.args.strip().lower() or "mine"
    today = _today(ctx.services, ctx.user_id)
    with ctx.services.store.session() as session:
        if which == "mine":
            rows = list_actions(session, owner=ctx.user_id)
            heading, empty = "Your open actions", "none. Add one with `/impact action add …`."
        elif which == "all":
            rows = list_actions(session)
            heading, empty = "Open actions", "none yet."
        elif is_key(session, which):
            rows = list_actions(session, key=which)
            heading, empty = f"Open actions for {which}", "none."
        else:
            raise UserError(f"There is no measure or partner {which!r}. Try "
                            "`/impact actions mine`, `all`, or a measure or partner key.")
    ctx.reply_message(view.list_message(heading, rows, today, empty))


def _refresh(services: Services, client: WebClient, users: set[str]) -> None:
    for user in sorted(users):
        try:
            publish_home(services, client, user)
        except Exception:
            log.warning("could not refresh the Home after an action change", exc_info=True)


def _add_modal(services: Services) -> dict[str, Any]:
    with services.store.session() as session:
        measures = [(key, name) for key, name in session.execute(
            select(Measure.key, Measure.name).where(Measure.active.is_(True))
            .order_by(Measure.position))]
    return view.add_modal(measures)


def register(app: App, services: Services, router: Router) -> None:
    router.add("action", action_command)
    router.add("actions", actions_command)

    def on_open(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        try:
            open_view(client, body["trigger_id"], _add_modal(services))
        except ModalNotOpened as exc:
            tell_privately(client, user_id, {"text": str(exc)},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action("action_open"), on_open)

    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        values = ((body.get("view") or {}).get("state") or {}).get("values") or {}

        def pick(block: str, key: str) -> Any:
            return ((values.get(block) or {}).get(block) or {}).get(key)

        title = str(pick("title", "value") or "")
        measure = (pick("measure", "selected_option") or {}).get("value")
        request = parse.ActionRequest(title.strip(), pick("owner", "selected_user"),
                                      pick("due", "selected_date"), measure)
        now = services.clock.now()
        try:
            if not request.title:
                raise UserError("Say what will be done.")
            today = _today(services, user_id)
            with services.store.session() as session:
                caller = identify(session, user_id)
                action = add_action(session, caller, request, today, now, source="modal")
                owner = action.owner_id
        except UserError as exc:
            said = str(exc)
            block = ("due" if request.due_text and request.due_text in said
                     else "owner" if "own an action" in said
                     else "measure" if "no measure" in said else "title")
            ack(response_action="errors", errors={block: str(exc)[:150]})
            return
        ack()
        context[ADDED] = {user_id, owner}

    def after_submit(client: WebClient, context: BoltContext) -> None:
        _refresh(services, client, set(context.get(ADDED) or ()))

    ack_first(app.view(view.ADD_CALLBACK), after_submit, acknowledge=on_submit)

    def on_done(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        action_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        now = services.clock.now()
        try:
            with services.store.session() as session:
                caller = identify(session, user_id)
                change_status(session, caller, action_id, "", "done", now)
            text = f"Action #{action_id} is done. Thank you! Its reminders stop."
        except UserError as exc:
            text = str(exc)
        tell_privately(client, user_id, {"text": text},
                       respond=respond if body.get("response_url") else None)
        _refresh(services, client, {user_id})

    ack_first(app.action("action_done"), on_done)
