"""Scheduled tidying that keeps the database small."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.runtime.services import Services
from storage.models import SlackEvent

# Slack retries a delivery for minutes, not days: older ids need not be remembered.
KEEP_EVENT_IDS = timedelta(days=2)


def forget_old_events(services: Services) -> None:
    """The scheduled job (bot/runtime/scheduler.py)."""
    with services.store.session() as session:
        session.execute(delete(SlackEvent).where(
            SlackEvent.received_at < services.clock.now() - KEEP_EVENT_IDS))
