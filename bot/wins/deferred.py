"""Events to handle again later, when Slack was briefly unavailable while handling them.

Slack redelivers an event only when we did not acknowledge it; we acknowledge first and
work after, so an event whose work hit a Slack outage would otherwise be lost. Such an event
is stored here and a scheduled tick replays it, with backoff, until it is handled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from bot.runtime.services import Services
from storage.models import DeferredEvent

log = logging.getLogger(__name__)

# Waits before each further attempt; after the last, the event is given up (and logged).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1), timedelta(hours=3), timedelta(hours=12))
# How long a claimed replay may take before another worker may try it.
REPLAY_LEASE = timedelta(minutes=5)
@dataclass(frozen=True)
class Replay:
    id: int
    payload: dict[str, Any]
    attempts: int


def defer(services: Services, kind: str, payload: dict[str, Any]) -> None:
    now = services.clock.now()
    with services.store.session() as session:
        session.add(DeferredEvent(kind=kind, payload=payload, attempts=0,
                                  next_attempt_at=now + BACKOFF[0], created_at=now))
    log.info("Slack was unavailable; a %s event will be handled again in %s", kind, BACKOFF[0])


def claim_due(services: Services, kind: str) -> list[Replay]:
    """The deferred events of `kind` due now, each claimed for this worker for a while."""
    now = services.clock.now()
    with services.store.session() as session:
        rows = session.scalars(
            select(DeferredEvent).where(DeferredEvent.kind == kind,
                                        DeferredEvent.next_attempt_at <= now)
            .order_by(DeferredEvent.id).with_for_update(skip_locked=True)).all()
        for row in rows:
            row.next_attempt_at = now + REPLAY_LEASE
        return [Replay(row.id, dict(row.payload), row.attempts) for row in rows]


def claim_one(services: Services, row_id: int) -> Replay | None:
    """The kept event `row_id`, claimed for this worker, if it is still due (a tick may have
    taken it, or it may be handled already)."""
    now = services.clock.now()
    with services.store.session() as session:
        row = session.scalar(
            select(DeferredEvent).where(DeferredEvent.id == row_id,
                                        DeferredEvent.next_attempt_at <= now)
            .with_for_update(skip_locked=True))
        if row is None:
            return None
        row.next_attempt_at = now + REPLAY_LEASE
        return Replay(row.id, dict(row.payload), row.attempts)


def postpone(services: Services, replay: Replay) -> None:
    """A kept event whose first handling found Slack unavailable: due again after the
    first backoff, as if it had been deferred (bot/runtime/events.py)."""
    with services.store.session() as session:
        session.execute(update(DeferredEvent).where(DeferredEvent.id == replay.id).values(
            next_attempt_at=services.clock.now() + BACKOFF[0]))
    log.info("Slack was unavailable; a kept event will be handled again in %s", BACKOFF[0])


def handled(services: Services, replay: Replay) -> None:
    with services.store.session() as session:
        session.execute(delete(DeferredEvent).where(DeferredEvent.id == replay.id))


def still_unavailable(services: Services, replay: Replay) -> None:
    attempts = replay.attempts + 1
    with services.store.session() as session:
        if attempts >= len(BACKOFF):
            session.execute(delete(DeferredEvent).where(DeferredEvent.id == replay.id))
            log.warning("giving up on a deferred event after %d attempts", attempts)
            return
        session.execute(update(DeferredEvent).where(DeferredEvent.id == replay.id).values(
            attempts=attempts, next_attempt_at=services.clock.now() + BACKOFF[attempts]))
