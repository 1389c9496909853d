"""When a workspace next needs the backbone relay tick (bot/runtime/due_work.py asks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select

from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from storage.models import Commitment, ParkedDestination, Voice

RETRY = timedelta(minutes=5)


def relay_next_due(services: Services, now: datetime) -> datetime | None:
    """`now + RETRY` while a voice or a commitment announcement waits to be posted to the
    backbone channel, or the backbone has not been told yet of a channel or person Slack
    refuses (bot/parking.py); None otherwise (a new one, or a channel named, marks it
    due)."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None or not initiative.backbone_channel:
            return None
        waiting = session.scalar(select(or_(
            exists().where(Voice.relayed_at.is_(None)),
            exists().where(Commitment.is_current.is_(True), Commitment.announced_at.is_(None)),
            exists().where(ParkedDestination.told_at.is_(None)))))
    return now + RETRY if waiting else None
