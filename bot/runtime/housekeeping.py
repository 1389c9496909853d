"""Scheduled tidying that keeps the database small (global jobs: every workspace at once)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, delete

from bot.measures.pending import EXPIRES as KEEP_PENDING_REPORTS
from bot.runtime.services import Services
from storage.models import PendingReport, SlackEvent, VoiceLimit

# Slack retries a delivery for minutes, not days: older ids need not be remembered.
KEEP_EVENT_IDS = timedelta(days=2)
# The public voice form's rate-limit hashes live one hour (bot/public/voice_form.py).
KEEP_VOICE_LIMITS = timedelta(hours=1)
# The job runs every 5 minutes (bot/runtime/scheduler.py): a hash outlives its hour by at
# most that much, and the limit ignores it from the moment it is an hour old.
# Reports held by the data-quality guard (bot/measures/pending.py) expire after a day: their
# rows go then, answered or not (a press on a deleted one is told it expired).


def forget_old_events(services: Services) -> None:
    """The scheduled job (bot/runtime/scheduler.py): one statement per table for all
    workspaces."""
    events: Table = SlackEvent.__table__  # type: ignore[assignment]
    with services.store.engine.begin() as connection:
        connection.execute(delete(events).where(
            events.c.received_at < services.clock.now() - KEEP_EVENT_IDS))
        limits: Table = VoiceLimit.__table__  # type: ignore[assignment]
        connection.execute(delete(limits).where(
            limits.c.created_at <= services.clock.now() - KEEP_VOICE_LIMITS))
        pending: Table = PendingReport.__table__  # type: ignore[assignment]
        connection.execute(delete(pending).where(
            pending.c.created_at <= services.clock.now() - KEEP_PENDING_REPORTS))
