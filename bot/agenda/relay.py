"""The backbone relay tick: what Slack refused earlier reaches the backbone channel later.

Community voice and commitment announcements are posted when they arrive; when Slack is
down then, each is released for another attempt (`voice.relay_pending`,
`commitments.announce`). Without this tick such a voice waited for the next voice, and such
an announcement waited for nobody. Each is still claimed in the database before it is
posted, so a tick running beside a request posts each one once. While the backbone channel
is parked (bot/parking.py) the tick tries nothing until its recheck. The tick also tells the
backbone of whatever was parked and not told yet (reminder DMs Slack refuses, a notice that
failed earlier): one notice for all of them.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from bot import parking
from bot.agenda import commitments, voice
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from storage.models import Commitment, Partner

log = logging.getLogger(__name__)


def relay_backlog(services: Services) -> int:
    """Post every unrelayed voice and every unannounced current commitment; answer how
    many were posted."""
    now = services.clock.now()
    with services.store.session() as session:
        initiative = load_initiative(session)
        channel = initiative.backbone_channel if initiative else None
        if parking.is_parked(session, channel, now):
            return 0
        pending = session.execute(
            select(Commitment.id, Partner.name, Commitment.partner_id)
            .join(Partner, Partner.id == Commitment.partner_id)
            .where(Commitment.is_current.is_(True), Commitment.announced_at.is_(None))
            .order_by(Commitment.id)).all()
        earlier = dict(session.execute(
            select(Commitment.partner_id, func.count()).group_by(Commitment.partner_id)).all())
    if not channel:
        return 0
    client = services.client()
    posted = voice.relay_pending(services.store, client, channel, now)
    for commitment_id, partner_name, partner_id in pending:
        if commitments.announce(services.store, client, channel, commitment_id, partner_name,
                                earlier.get(partner_id, 1) > 1, now):
            posted += 1
    if posted:
        log.info("relayed %s held-back message(s) to the backbone channel", posted)
    return posted


def relay_tick(services: Services) -> None:
    """The scheduled job (bot/runtime/scheduler.py)."""
    relay_backlog(services)
    if services.can_post():
        parking.tell_untold(services.store, services.client(), services.clock.now())
