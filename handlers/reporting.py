"""Shared measurement in Slack: `/impact report|measures|status|export`, the report modal."""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.actions.store import list_actions
from bot.actions.view import line as action_line
from bot.home.refresh import mark_partner_stale, request_refresh
from bot.measures.confirmation import confirm_held, confirmation
from bot.measures.export import csv_bytes
from bot.measures.pending import EXPIRED, GONE, SUPERSEDED
from bot.measures.quality import CONFIRM_ACTION
from bot.measures.rba_data import rba_extras
from bot.measures.rba_view import measure_page, measures_grouped
from bot.measures.report_modal import (
    CALLBACK_ID,
    VALUE,
    channel_of,
    report_view,
    request_from_view,
    view_errors,
)
from bot.measures.reporting import (
    NeedsConfirmation,
    Recorded,
    ReportError,
    find_measure,
    parse_report_args,
    record_report,
)
from bot.measures.status_view import status_message
from bot.measures.view import measure_statuses
from bot.runtime.caller import identify, require_initiative
from bot.runtime.errors import UserError
from bot.runtime.modals import open_view
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import DB_BUSY, TRY_AGAIN, CommandContext, Router
from storage.kinds import ReportSource

log = logging.getLogger(__name__)

RECORDED = "recorded_report"  # Bolt context key: the modal's stored report, for after the ack
HOME_ATTEMPTS = 3
DROP_RETRIES = 2  # a slash report runs after the ack: a dropped connection is retried
HELD = "held_report"  # Bolt context key: the guard's question, for after the ack
QUALITY_ANSWER = re.compile(rf"^{CONFIRM_ACTION}:(typed|suggested|cancel)$")
REPORT_OPEN = re.compile(r"^report_open(:.+)?$")
_PERIODISH = re.compile(r"^\d{4}-(W?\d{1,2}|Q\d)$", re.IGNORECASE)


def register(app: App, services: Services, router: Router) -> None:
    router.add("report", report)
    router.add("measures", measures)
    router.add("status", status)
    router.add("export", export, admin_only=True)

    def open_report_modal(body: dict[str, Any], action: dict[str, Any],
                          client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        measure_key = action.get("action_id", "").partition(":")[2] or None
        value = action.get("value") or ""
        period = value if _PERIODISH.match(value) else None
        channel = (body.get("channel") or {}).get("id", "")
        try:
            open_modal(services, client, user_id, body["trigger_id"], measure_key=measure_key,
                       period=period, channel_id=channel)
        except UserError as exc:
            tell_privately(client, user_id, {"text": str(exc)},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action(REPORT_OPEN), open_report_modal)

    def submit_report(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                      context: BoltContext) -> None:
        # The modal's answer must say whether the report was stored, so it is recorded
        # before the ack (one short transaction); Slack is called after (`confirm_report`).
        user_id = body["user"]["id"]
        try:
            request = request_from_view(view)
            recorded = record_report(services.store, request, user_id=user_id,
                                     now=services.clock.now(),
                                     source=report_source(services, "modal"))
        except NeedsConfirmation as held:
            ack()  # the question goes to the person once the modal is closed
            context[HELD] = held.message
            return
        except ReportError as exc:
            ack(response_action="errors", errors=view_errors(view, exc))
            return
        except OperationalError:
            log.warning("database unavailable while recording a report from the modal",
                        exc_info=True)
            ack(response_action="errors", errors={VALUE: DB_BUSY})
            return
        except Exception:
            log.exception("recording a report from the modal failed")
            ack(response_action="errors", errors={VALUE: TRY_AGAIN})
            return
        ack()
        context[RECORDED] = recorded

    def confirm_report(body: dict[str, Any], view: dict[str, Any], client: WebClient,
                       context: BoltContext) -> None:
        recorded = context.get(RECORDED)
        if isinstance(context.get(HELD), dict):
            tell_privately(client, body["user"]["id"], context[HELD], channel=channel_of(view))
            return
        if not isinstance(recorded, Recorded):
            return  # refused or not stored: the modal said so
        # A DM, else where the modal was opened. If Slack is down the report is still saved
        # and shows in the App Home and `/impact status`.
        if not tell_privately(client, body["user"]["id"], confirmation(recorded),
                              channel=channel_of(view)):
            log.warning("could not confirm report %s", recorded.report_id)
        refresh_homes_later(services, recorded)

    ack_first(app.view(CALLBACK_ID), confirm_report, acknowledge=submit_report)

    def on_quality_answer(body: dict[str, Any], action: dict[str, Any], client: WebClient,
                          respond: Respond) -> None:
        user_id = body["user"]["id"]
        choice = str(action.get("action_id", "")).partition(":")[2]
        via = respond if body.get("response_url") else None
        try:
            outcome, recorded = confirm_held(services.store, str(action.get("value") or ""),
                                             choice, user_id, services.clock.now())
        except ReportError as exc:
            tell_privately(client, user_id, {"text": str(exc)}, respond=via)
            return
        if recorded is not None:
            if via is not None:
                respond(replace_original=True, **confirmation(recorded))
            else:
                tell_privately(client, user_id, confirmation(recorded))
            refresh_homes_later(services, recorded)
        elif outcome == "cancelled":
            text = "Cancelled: nothing was recorded."
            if via is not None:
                respond(replace_original=True, text=text)
            else:
                tell_privately(client, user_id, {"text": text})
        else:
            text = {"not_yours": "Only the person who reported can answer this.",
                    "expired": EXPIRED, "superseded": SUPERSEDED}.get(outcome, GONE)
            tell_privately(client, user_id, {"text": text}, respond=via)

    ack_first(app.action(QUALITY_ANSWER), on_quality_answer)


def slack_unescape(text: str) -> str:
    """Slack sends `&`, `<` and `>` in command text as entities; notes keep what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def report_source(services: Services, default: ReportSource) -> ReportSource:
    """Where a report came from: `slash` or `modal`, or `console` when the offline console
    (same app, emulated Slack) runs it; the console marks its Services `surface="console"`."""
    return "console" if services.surface == "console" else default


def open_modal(services: Services, client: WebClient, user_id: str, trigger_id: str, *,
               measure_key: str | None = None, period: str | None = None,
               channel_id: str = "") -> None:
    with services.store.session() as session:
        initiative = require_initiative(session)
        view = report_view(session, initiative, user_id, services.clock.now(),
                           measure_key=measure_key, period=period, channel_id=channel_id)
    open_view(client, trigger_id, view)


# --- subcommands ---------------------------------------------------------------------------


def report(ctx: CommandContext) -> None:
    services = ctx.services
    if not ctx.args:
        open_modal(services, ctx.client, ctx.user_id, ctx.trigger_id, channel_id=ctx.channel_id)
        return
    request = parse_report_args(slack_unescape(ctx.args))
    try:
        recorded = record_report(services.store, request, user_id=ctx.user_id,
                                 now=services.clock.now(),
                                 source=report_source(services, "slash"),
                                 drop_retries=DROP_RETRIES)
    except NeedsConfirmation as held:
        ctx.reply_message(held.message)  # nothing stored until a button is pressed
        return
    # From here on the report is stored: the person is told so, and nothing that fails
    # later (Slack, the database for the Home refresh) may tell them otherwise.
    try:
        ctx.reply_message(confirmation(recorded))
    except Exception:
        log.warning("could not confirm report %s", recorded.report_id, exc_info=True)
    refresh_homes_later(services, recorded)


def refresh_homes_later(services: Services, recorded: Recorded) -> None:
    """What the partner owes just changed: the opened Homes of its members are marked out
    of date (one statement) and refreshed by the background worker, never on this thread
    (bot/home/refresh.py). Never raises: the report is stored, and each Home is rebuilt
    whenever it is opened."""
    for attempt in range(1, HOME_ATTEMPTS + 1):
        try:
            mark_partner_stale(services.store, recorded.partner_key, recorded.reported_by,
                               services.clock.now())
            break
        except Exception:
            if attempt == HOME_ATTEMPTS:
                log.warning("could not mark the Homes out of date after report %s; each "
                            "Home is rebuilt when it is next opened", recorded.report_id,
                            exc_info=True)
                return
    request_refresh(services)


def measures(ctx: CommandContext) -> None:
    """`/impact measures` grouped by result (SPEC §10); `/impact measures KEY` one page."""
    key = ctx.args.strip().lower()
    with ctx.services.store.read_session() as session:  # reads only: no SQLite write lock
        initiative = require_initiative(session)
        statuses = measure_statuses(session, initiative, ctx.services.clock.now())
        if key:
            statuses = [s for s in statuses if s.key == key]
            if not statuses:
                find_measure(session, key)  # raises: there is no such measure, and the list
        extras = rba_extras(session, initiative, statuses)
        results = list(initiative.results or [])
        today = ctx.services.clock.now().astimezone(ZoneInfo(initiative.timezone)).date()
        actions = ([action_line(row, today) for row in list_actions(session, key=key)]
                   if key else [])
    if key:
        ctx.reply_message(measure_page(statuses[0], extras.get(key), actions))
    else:
        ctx.reply_message(measures_grouped(statuses, extras, results))


def status(ctx: CommandContext) -> None:
    with ctx.services.store.session() as session:
        initiative = require_initiative(session)
        caller = identify(session, ctx.user_id, initiative)
        message = status_message(session, initiative, caller, ctx.services.clock.now())
    ctx.reply_message(message)


def export(ctx: CommandContext) -> None:
    """The CSV export as a file, in the admin's DM with the bot (never in a shared channel:
    the export holds every partner's figures)."""
    words = {w.lower().lstrip("-") for w in ctx.args.split()}
    if words - {"history"}:
        raise UserError("Use `/impact export`, or `/impact export history` to include "
                        "superseded values.")
    history = "history" in words
    now = ctx.services.clock.now()
    data, count = csv_bytes(ctx.services, history=history)
    dm = ctx.client.conversations_open(users=ctx.user_id)["channel"]["id"]
    kind = "every reported value, corrections included" if history else "current values"
    ctx.client.files_upload_v2(
        channel=dm, content=data, filename=f"impact-export-{now:%Y-%m-%d}.csv",
        title=f"Impact Bot export {now:%Y-%m-%d}",
        initial_comment=f"The measure reports export: {count} rows, {kind}.")
    ctx.reply(f"Sent the export ({count} rows, {kind}) to your direct messages with me.")
