"""Events API deliveries: each event_id is handled once, whatever Slack retries.

Some events must not be lost when the database fails after Slack has its 200 (a win
reaction): those are kept, in the same transaction that claims the event id, as a deferred
event due at once. Either both are stored and Slack gets its 200, or neither is and Slack
gets an error and delivers the event again (issue 14, finding 3). The work then runs after
the ack and removes the kept event when done; if it fails midway, the kept event stays and
a scheduled tick handles it again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.runtime.services import Services
from storage.models import DeferredEvent, SlackEvent

# event type -> the deferred-event kind it is kept as (handlers register theirs)
KEPT_EVENTS: dict[str, str] = {}
KEPT = "kept_event_id"  # the Bolt context key holding the kept row's id


def keep_event(event_type: str, kind: str) -> None:
    """Keep every `event_type` event durably, as a deferred event of `kind`."""
    KEPT_EVENTS[event_type] = kind


def claim_event(services: Services, event_id: str,
                keep: tuple[str, dict[str, Any]] | None = None) -> int | bool:
    """False for a redelivery; else True, or with `keep` = (kind, payload) the kept row's id.

    A database failure raises (and Slack, answered 500, delivers the event again)."""
    now = services.clock.now()
    try:
        with services.store.session() as session:
            session.add(SlackEvent(event_id=event_id, received_at=now))
            if keep is None:
                return True
            row = DeferredEvent(kind=keep[0], payload=keep[1], attempts=0,
                                next_attempt_at=now, created_at=now)
            session.add(row)
            session.flush()
            return int(row.id)
    except IntegrityError:
        return False
