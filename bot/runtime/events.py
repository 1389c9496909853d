"""Events API deliveries: each event_id is handled once, whatever Slack retries."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.runtime.services import Services
from storage.models import SlackEvent


def claim_event(services: Services, event_id: str) -> bool:
    """True the first time an event id is seen, False for every redelivery."""
    try:
        with services.store.session() as session:
            session.add(SlackEvent(event_id=event_id, received_at=services.clock.now()))
        return True
    except IntegrityError:
        return False

