"""A channel works for the bot again: resume what was parked for it at once.

Slack refuses posts in an archived channel, one restricted to admins, or one the bot was
removed from; what waits for such a channel is parked (bot/parking.py) and rechecked every
hour. Two events say sooner that it works again: the channel was unarchived
(`channel_unarchive`, `group_unarchive`), or the bot was invited back
(`member_joined_channel` naming the bot). Then its recheck is due now and whatever waits
for it is tried at once. A restriction lifted sends no event: the hourly recheck finds it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import parking
from bot.agenda.relay import relay_backlog
from bot.digest.posting import digest_tick
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from bot.wins import flow as wins
from handlers._acks import ack_first
from handlers.router import Router

log = logging.getLogger(__name__)


def resume_channel(services: Services, client: WebClient, channel: str) -> bool:
    """`channel` may work again: what waits for it is tried now. False when nothing was
    parked for it (one UPDATE, nothing else)."""
    if not parking.recheck_now(services.store, channel, services.clock.now()):
        return False
    with services.store.session() as session:
        initiative = load_initiative(session)
    if initiative is None:
        return True
    log.info("%s may take posts again: resuming what waits for it", channel)
    if channel == initiative.wins_channel:
        wins.resume_unfinished(services, client)
    if channel == initiative.backbone_channel:
        relay_backlog(services)
        digest_tick(services)
    return True


def register(app: App, services: Services, router: Router) -> None:
    def on_unarchive(event: dict[str, Any], client: WebClient) -> None:
        channel = event.get("channel")
        if isinstance(channel, str) and channel:
            resume_channel(services, client, channel)

    def on_member_joined(event: dict[str, Any], client: WebClient,
                         context: BoltContext) -> None:
        channel = event.get("channel")
        if (event.get("user") == context.bot_user_id and isinstance(channel, str)
                and channel):
            resume_channel(services, client, channel)

    ack_first(app.event("channel_unarchive"), on_unarchive)
    ack_first(app.event("group_unarchive"), on_unarchive)
    ack_first(app.event("member_joined_channel"), on_member_joined)
