"""Wins in Slack: reactions, the "Share as a win" shortcut, the author's consent, and
`/impact win` / `/impact wins`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.rendering import blocks as bk
from bot.runtime.events import KEPT, keep_event
from bot.runtime.manifest import SHORTCUT_CALLBACK
from bot.runtime.replies import replace_clicked, tell_privately
from bot.runtime.services import Services
from bot.wins import flow as wins
from bot.wins import links
from bot.wins import messages as wm
from handlers._acks import ack_first
from handlers.router import CommandContext, Router

log = logging.getLogger(__name__)

ONLY_THE_AUTHOR = "Only the author of this message can answer."


def register(app: App, services: Services, router: Router) -> None:
    # A win reaction is stored with its event id before Slack gets its 200, and counted
    # after (bot/runtime/events.py): a database failure in between loses nothing.
    keep_event("reaction_added", wins.REACTION)

    def on_reaction(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        kept = context.get(KEPT)
        if isinstance(kept, int):
            wins.handle_kept_reaction(services, client, kept)
        else:  # not kept (the id was claimed without it): handle it directly
            wins.handle_reaction(services, client, event, context.bot_user_id)

    ack_first(app.event("reaction_added"), on_reaction)

    def on_share(shortcut: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel = (shortcut.get("channel") or {}).get("id") or ""
        user = (shortcut.get("user") or {}).get("id") or ""
        shared = wins.share_message(services, client, channel_id=channel,
                                    message=shortcut.get("message") or {}, nominator=user)
        respond(response_type="ephemeral", replace_original=False,
                **bk.message(_shared_text(shared)))

    ack_first(app.shortcut(SHORTCUT_CALLBACK), on_share)

    def on_consent(approve: bool) -> Any:
        def answer(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            action = (body.get("actions") or [{}])[0]
            try:
                win_id = int(action.get("value") or "")
            except ValueError:
                return
            if not 0 < win_id < 2**31:  # not a row id (PostgreSQL would refuse to compare)
                return
            user = (body.get("user") or {}).get("id") or ""
            result = wins.answer_consent(services, client, win_id, user, approve)
            if result.outcome in ("not_author", "gone"):
                tell_privately(client, user, {"text": ONLY_THE_AUTHOR},
                               respond=respond if body.get("response_url") else None)
                return
            approved = result.outcome in ("approved", "already_posted")
            replace_clicked(client, body, wm.consent_answered(approved, result.wins_channel,
                                                              result.posted), "consent DM")
        return answer

    ack_first(app.action(wm.APPROVE_ACTION), on_consent(True))
    ack_first(app.action(wm.DECLINE_ACTION), on_consent(False))

    def on_link(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = (body.get("actions") or [{}])[0]
        _, _, raw_id = str(action.get("block_id") or "").partition(":")
        key = str((action.get("selected_option") or {}).get("value") or "")
        user = (body.get("user") or {}).get("id") or ""
        if not (raw_id.isdigit() and 0 < int(raw_id) < 2**31 and key):
            return
        answer = links.link_answer(links.link(services, client, int(raw_id), user, key))
        if answer:
            tell_privately(client, user, {"text": answer},
                           respond=respond if body.get("response_url") else None)

    ack_first(app.action(wm.LINK_ACTION), on_link)

    router.add("win", lambda ctx: share_win(services, ctx))
    router.add("wins", lambda ctx: ctx.reply_message(
        links.wins_for(services, ctx.client, ctx.args.split()[0]) if ctx.args.strip()
        else wins.recent_wins(services, ctx.client)))


def share_win(services: Services, ctx: CommandContext) -> None:
    with services.store.session() as session:
        measure_id, text = links.split_key(session, ctx.args)
    win = wins.share_text(services, ctx.client, ctx.user_id, text, measure_id)
    where = f"<#{win.posted_channel}>" if win.posted_channel else "the wins channel"
    link = f" <{win.permalink}|See it>" if win.permalink else ""
    ctx.reply(f":tada: Your win is shared in {where}.{link}")


def _shared_text(shared: wins.Shared) -> str:
    where = f"<#{shared.wins_channel}>" if shared.wins_channel else "the wins channel"
    author = f"<@{shared.author_id}>" if shared.author_id else "its author"
    link = f" <{shared.link}|See the original>" if shared.link else ""
    return {
        "posted": f":tada: Shared in {where}. Thanks for spreading the word!",
        "asked": (f"This message is from a private conversation, so I asked {author} "
                  "first. Nothing is posted unless they agree."),
        "already_posted": f"This message is already a win in {where}.{link}",
        "awaiting": f"I'm still waiting for {author} to say whether it may be shared.",
        "sharing": f"This message is being shared in {where} right now.",
        "declined": "Its author chose not to share this message.",
        "bot": "Messages from apps and bots can't be shared as wins.",
        "no_channel": "No wins channel is set up yet. Ask your backbone team to add one.",
        "failed": "Sorry, I couldn't share that just now. Please try again in a minute.",
        "waiting": (f"{where} can't take posts right now, so the win is kept and will be "
                    "shared as soon as it works (the backbone team has been told)."),
    }[shared.outcome]
