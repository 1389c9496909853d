"""`/impact agenda`, `/impact commit`, `/impact voice` and the commit modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.agenda import commitments, voice
from bot.agenda.view import agenda_message, load_agenda, local_day
from bot.rendering import blocks as bk
from bot.runtime.caller import Caller, identify
from bot.runtime.errors import UserError
from bot.runtime.modals import ModalNotOpened, open_view
from bot.runtime.replies import tell_privately
from bot.runtime.services import Services
from handlers._acks import ack_first
from handlers.home import publish_home
from handlers.router import CommandContext, Router

COMMITTED = "committed"  # Bolt context key: the stored commitment, for after the ack

log = logging.getLogger(__name__)

NOT_A_MEMBER = ("Only partner members can commit a partner to the common agenda, and you "
                "are not on a partner yet. Ask your backbone team to add you to your "
                "organisation in initiative.yml. You can still read it with `/impact agenda`.")


def show_agenda(ctx: CommandContext) -> None:
    with ctx.services.store.session() as session:
        agenda = load_agenda(session)
    ctx.reply_message(agenda_message(agenda, ctx.command))


def _modal_for(services: Services, caller: Caller) -> dict[str, Any]:
    assert caller.partner_id is not None
    with services.store.session() as session:
        agenda = load_agenda(session)
        current = commitments.current_commitment(session, caller.partner_id)
        signed_on = local_day(current.signed_at, agenda.timezone) if current else ""
        return commitments.commit_modal(agenda.initiative_name, agenda.text, caller.partner_id,
                                        caller.partner_name or "", current, signed_on)


def open_commit(ctx: CommandContext) -> None:
    caller = ctx.caller()
    if not caller.is_member:
        raise UserError(NOT_A_MEMBER)
    open_view(ctx.client, ctx.trigger_id, _modal_for(ctx.services, caller))


def _notice_view(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "close": {"type": "plain_text", "text": "OK"}, "blocks": [bk.section(text)]}


def make_voice_command(limiter: voice.FloodLimiter) -> Any:
    def send_voice(ctx: CommandContext) -> None:
        # Anonymity: nothing here may log or store ctx.user_id or ctx.channel_id; the user
        # id only reaches the in-memory limiter, which keeps an HMAC of it.
        relayed = voice.send_voice(ctx.services.store, ctx.client, limiter, ctx.user_id,
                                   ctx.args, ctx.services.clock.now())
        status = ("Thank you: your words are now in the backbone team's channel, anonymously."
                  if relayed else
                  "Thank you: your words are saved and will reach the backbone team's channel "
                  "as soon as it can be reached.")
        ctx.reply(f"{status}\n\n{voice.WHAT_IS_KEPT}",
                  [bk.section(status), bk.context(voice.WHAT_IS_KEPT)])
    return send_voice


def register(app: App, services: Services, router: Router) -> None:
    limiter = voice.FloodLimiter()
    router.add("agenda", show_agenda)
    router.add("commit", open_commit)
    router.add("voice", make_voice_command(limiter))

    def on_commit_open(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        with services.store.session() as session:
            caller = identify(session, user_id)
        if caller.is_member:
            view = _modal_for(services, caller)
        else:
            view = _notice_view("Commit", NOT_A_MEMBER)
        try:
            open_view(client, body["trigger_id"], view)
        except ModalNotOpened as exc:
            tell_privately(client, user_id, {"text": str(exc)},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action("commit_open"), on_commit_open)

    def on_commit_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                         context: BoltContext) -> None:
        # Stored before the ack (the modal shows the outcome); Slack is told after.
        user_id = str((body.get("user") or {}).get("id", ""))
        entry = commitments.parse_submission((view.get("state") or {}).get("values") or {})
        now = services.clock.now()
        try:
            done = commitments.submit_commitment(services.store, user_id,
                                                 str(view.get("private_metadata") or ""),
                                                 entry, now)
        except commitments.CommitRejected as rejected:
            ack(response_action="errors", errors=rejected.errors)
            return
        name = bk.escape(done.partner_name)
        ack(response_action="update", view=_notice_view(
            "Committed", f":handshake: Thank you. *{name}* "
            + ("updated its commitment" if done.replaced else "is now committed")
            + " to the common agenda. The backbone team has been told, and it will be in "
              "the next digest."))
        context[COMMITTED] = (done, now)

    def after_commit(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        committed = context.get(COMMITTED)
        if committed is None:
            return
        done, now = committed
        user_id = str((body.get("user") or {}).get("id", ""))
        commitments.announce(services.store, client, done.backbone_channel,
                             done.commitment_id, done.partner_name, done.replaced, now)
        # The signer first; then the rest of the partner, whose Commit button is now stale.
        publish_home(services, client, user_id)
        for member in done.members:
            if member != user_id:
                publish_home(services, client, member)

    ack_first(app.view(commitments.COMMIT_CALLBACK), after_commit, acknowledge=on_commit_submit)
