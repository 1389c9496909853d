"""When a workspace next needs the wins tick (bot/runtime/due_work.py asks after a run)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from bot.runtime.services import Services
from storage.models import DeferredEvent, Win, WinStatus

RETRY = timedelta(minutes=5)


def wins_next_due(services: Services, now: datetime) -> datetime | None:
    """The earliest moment a kept reaction is due again or a half-done win's claim runs
    out; None when nothing is waiting (a new reaction marks the job due at once)."""
    with services.store.session() as session:
        deferred = session.scalar(select(func.min(DeferredEvent.next_attempt_at)))
        unclaimed, lease = session.execute(select(
            func.count().filter(Win.lease_until.is_(None)), func.min(Win.lease_until))
            .where(or_(Win.status == WinStatus.APPROVED,
                       and_(Win.status == WinStatus.PENDING, Win.lease_until.is_not(None))))
        ).one()
    if unclaimed:
        return now + RETRY
    return min((t for t in (deferred, lease) if t is not None), default=None)
