"""Reminder DM buttons (snooze, skip) and `/impact pause DAYS` / `/impact resume`."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.measures.skips import measure_name, skip_period
from bot.reminders import pauses
from bot.reminders.messages import (
    REASON_ACTION,
    REASON_BLOCK,
    SKIP_ACTION,
    SKIP_CALLBACK,
    SNOOZE_ACTION,
    skip_modal,
    skipped_message,
)
from bot.rendering import dates
from bot.runtime.errors import UserError
from bot.runtime.modals import ModalNotOpened, open_view
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.router import CommandContext, Router

SKIPPED = "skipped"  # Bolt context key: the stored skip, for after the ack


def register(app: App, services: Services, router: Router) -> None:
    def pause_command(ctx: CommandContext) -> None:
        days = pauses.parse_days(ctx.args)
        answer = pauses.pause(services.store, ctx.user_id, days, services.clock.now())
        resume_on = pauses.describe_day(answer.local_until, services.clock.now())
        ctx.reply(f"Reminders paused for {days} day{'s' if days != 1 else ''}. They resume on "
                  f"{resume_on}. `/impact resume` restarts them sooner.")

    def resume_command(ctx: CommandContext) -> None:
        was_paused, today = pauses.resume(services.store, ctx.user_id, services.clock.now())
        day = dates.action_day(today, today)
        if was_paused:
            ctx.reply(f"Welcome back! Reminders resume today, {day}.")
        else:
            ctx.reply(f"Your reminders were not paused; they carry on as usual from today, "
                      f"{day}.")

    router.add("pause", pause_command)
    router.add("resume", resume_command)

    def on_snooze(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        user_id = body["user"]["id"]
        snoozed, answer = pauses.snooze(services.store, user_id, services.clock.now())
        local, now = answer.local_until, services.clock.now()
        if snoozed:
            when = dates.moment(local, now.astimezone(local.tzinfo).date())
            text = f"Snoozed. I'll remind you again tomorrow, {when}."
        else:
            text = (f"Your reminders are paused until {pauses.describe_day(local, now)} "
                    "already; I'll remind you after that.")
        tell_privately(client, user_id, {"text": text},
                       respond=respond if body.get("response_url") else None)

    ack_first(app.action(SNOOZE_ACTION), on_snooze)

    def on_skip_button(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = body["actions"][0]
        measure_key = action["action_id"].partition(":")[2]
        period = str(action.get("value") or "")
        name = measure_name(services.store, measure_key) or measure_key
        container = body.get("container") or {}
        meta = {"measure": measure_key, "period": period,
                "channel": container.get("channel_id"), "ts": container.get("message_ts")}
        try:
            open_view(client, body["trigger_id"], skip_modal(name, period, meta))
        except ModalNotOpened as exc:
            tell_privately(client, body["user"]["id"], {"text": str(exc)},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action(re.compile(rf"^{SKIP_ACTION}:.+$")), on_skip_button)

    def on_skip_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                       context: BoltContext) -> None:
        # Stored before the ack (the modal shows a refusal); the DM is sent after.
        user_id = body["user"]["id"]
        meta = _metadata(view.get("private_metadata"))
        value = (view.get("state", {}).get("values", {}).get(REASON_BLOCK, {})
                 .get(REASON_ACTION, {}).get("value")) or ""
        try:
            skipped = skip_period(services.store, user_id, str(meta.get("measure", "")),
                                  str(meta.get("period", "")), value, services.clock.now())
        except UserError as exc:
            ack(response_action="errors", errors={REASON_BLOCK: str(exc)})
            return
        ack()
        context[SKIPPED] = skipped

    def after_skip(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        skipped = context.get(SKIPPED)
        if skipped is None:
            return
        client.chat_postMessage(channel=body["user"]["id"], **skipped_message(
            skipped.measure_name, skipped.period, skipped.reason))

    ack_first(app.view(SKIP_CALLBACK), after_skip, acknowledge=on_skip_submit)


def _metadata(raw: Any) -> dict[str, Any]:
    """The skip form's private_metadata; anything but a JSON object reads as empty (and the
    skip is then refused with a reason, not a crash)."""
    try:
        meta = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    if not isinstance(meta, dict):
        return {}
    # The metadata is JSON inside a string: a "\u0000" in it decodes to a NUL character,
    # which PostgreSQL refuses even in a query.
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in meta.items()}
