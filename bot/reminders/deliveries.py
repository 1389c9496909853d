"""Claims on reminder DMs: the database decides who may send each DM, and when again.

A DM is identified by its dedupe key. Sending it takes a *claim*: insert the key (or take
over a claim whose lease has expired) in one transaction. The claim's `attempts` value is
its fencing token: renewing, recording and releasing only succeed while nobody has taken the
claim over since. Leases are real time (how long a live process may be silent), not the
tick's instant: they measure whether a sender is alive, not what is due. The claim rules
themselves are bot/exactly_once.py's.

A person Slack refuses DMs to for good (the account deactivated or gone, a bot: see
`bot.parking.CANNOT_DM`) is parked: their DMs are not claimed until the recheck (a day
later), the relay tick tells the backbone once who they are, and the first DM that gets
through resumes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, select

from bot import parking
from bot.exactly_once import Ledger, claimed_since
from storage.db import Store
from storage.models import ReminderDelivery

# After this many attempts a DM is given up on (logged); a person Slack will not let us
# message must not cost a send slot on every tick for ever.
MAX_ATTEMPTS = 8
WAITING = "their reminders"

DELIVERIES = Ledger(ReminderDelivery, ReminderDelivery.id, ReminderDelivery.lease_until,
                    ReminderDelivery.sent_at.is_(None), key=("team_id", "dedupe_key"))


@dataclass(frozen=True)
class Claim:
    key: str
    token: int  # attempts at the moment we claimed: the fencing token
    user_id: str
    now: datetime | None = None  # the tick's instant: when a refusal parks the person
    recheck: bool = False  # the person is parked and this is the attempt due: sent resumes
    # Taken over: when the earlier claim began (its DM, if sent, is newer; exactly_once.py).
    since: datetime | None = None

    @property
    def uncertain(self) -> bool:
        """An earlier attempt may have reached Slack: look before sending again."""
        return self.token > 1


@dataclass(frozen=True)
class ClaimRefused:
    # busy: a live sender holds it; deferred: released with an error, retry later
    reason: Literal["sent", "busy", "deferred", "given_up"]
    lease_until: datetime | None = None


def claim(store: Store, *, key: str, user_id: str, nudge: int, items: list[dict[str, Any]],
          now: datetime, wall: datetime, lease: timedelta) -> Claim | ClaimRefused:
    """Take the DM `key` for `lease` (real time, from `wall`) or say why not."""
    with store.session() as session:
        gate = parking.enter(session, user_id, now)
        if gate == "parked":
            return ClaimRefused("deferred")
        inserted = DELIVERIES.insert(session, dict(
            dedupe_key=key, user_id=user_id, nudge=nudge, items=items, created_at=now,
            lease_until=wall + lease, attempts=1))
        if inserted is not None:
            return Claim(key, 1, user_id, now, gate == "recheck")
    with store.session() as session:
        row = session.execute(
            select(ReminderDelivery.attempts, ReminderDelivery.sent_at,
                   ReminderDelivery.lease_until, ReminderDelivery.last_error)
            .where(ReminderDelivery.dedupe_key == key)).one()
        if row.sent_at is not None:
            return ClaimRefused("sent")
        if row.attempts >= MAX_ATTEMPTS:
            return ClaimRefused("given_up")
        taken = DELIVERIES.take_over(
            session, and_(ReminderDelivery.dedupe_key == key,
                          ReminderDelivery.attempts == row.attempts),
            now=wall, length=lease, values={"attempts": row.attempts + 1, "last_error": None})
        if taken is not None:
            return Claim(key, row.attempts + 1, user_id, now, gate == "recheck",
                         claimed_since(row.lease_until, lease))
        # Released with an error and a later retry time, or held by a live sender.
        return ClaimRefused("deferred" if row.last_error is not None else "busy",
                            row.lease_until)


def _mine(c: Claim) -> ColumnElement[bool]:
    """The claim's row, only while nobody has taken it over since (the fencing token)."""
    return and_(ReminderDelivery.dedupe_key == c.key, ReminderDelivery.attempts == c.token)


def renew(store: Store, c: Claim, *, wall: datetime, lease: timedelta) -> bool:
    """Extend the lease; False if the claim is no longer ours (do not send then)."""
    with store.session() as session:
        return DELIVERIES.renew(session, _mine(c), wall + lease)


def record_sent(store: Store, c: Claim, *, now: datetime, channel: str, ts: str) -> bool:
    with store.session() as session:
        recorded = DELIVERIES.record(session, _mine(c), {"sent_at": now, "channel": channel,
                                                         "ts": ts, "last_error": None})
    if c.recheck:
        parking.unpark(store, c.user_id)
    return recorded


def release(store: Store, c: Claim, *, error: str, retry_at: datetime) -> None:
    """Give the claim back with the reason; it may be taken again from `retry_at`.

    When Slack refused the person for good, the person is parked instead: the claim is free
    at once (the parking decides when it is tried again) and, as nothing was posted, the
    next attempt need not look for it first (`attempts` back to 0, so its token is 1)."""
    refused = c.now is not None and parking.refused_for_good(c.user_id, error)
    with store.session() as session:
        DELIVERIES.release(session, _mine(c), retry_at=None if refused else retry_at,
                           values={"last_error": error[:200],
                                   **({"attempts": 0} if refused else {})})
        if refused and c.now is not None:
            parking.park(session, c.user_id, error, WAITING, c.now)


def lease_state(store: Store, key: str) -> tuple[datetime | None, datetime | None]:
    """(sent_at, lease_until) of one DM."""
    with store.session() as session:
        row = session.execute(select(ReminderDelivery.sent_at, ReminderDelivery.lease_until)
                              .where(ReminderDelivery.dedupe_key == key)).one()
        return row.sent_at, row.lease_until


def known_dm_channel(store: Store, user_id: str) -> str | None:
    """The DM channel id an earlier send to this person came back with, if any."""
    with store.session() as session:
        return session.scalar(
            select(ReminderDelivery.channel)
            .where(ReminderDelivery.user_id == user_id, ReminderDelivery.channel.is_not(None))
            .limit(1))
