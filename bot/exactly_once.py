"""Exactly-once side effects: claim a unique key with a lease, act, record.

Every post the bot owes Slack (a reminder DM, a win, the weekly digest, a community voice or
a commitment announcement) has a database row whose unique key names it. The rules are the
same for all of them:

- **claim**: insert the row with a lease, or lock an existing row that is still open (not
  done) and whose lease has run out (`lease_until` NULL, i.e. released, or `<= now`), and
  lease it. A live lease means another worker is on it: hands off.
- **act**: post, carrying the key in the message's `metadata`.
- **record**: mark the row done and clear its lease, only while it is still open.
- **release** on failure: a NULL lease (retry at once), or a lease ending at a chosen time
  (retry then; "now" after an answer that leaves it unknown whether Slack posted).
- **look before a takeover**: a claim taken over from an expired lease may have been acted
  on already, so the channel's history since the earlier holder's claim is searched for the
  key first (`find_marked`); found means it went out and is only recorded.

`now` is always passed in: each caller decides which clock its leases run on (`REAL_TIME`
for reminders, the digest and backbone posts; the services' clock for wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.runtime.clock import Clock, SystemClock
from storage.models import Base

# Leases ask whether a worker is still alive, so by default they run on real time, not on
# the instant a tick or `--at` acts for. Callers pass it (or another clock) in.
REAL_TIME: Clock = SystemClock()

# --- the lease rule, in Python and in SQL -------------------------------------------------


@dataclass(frozen=True)
class Lease:
    until: datetime
    taken_over: bool  # an earlier holder's lease ran out: look before acting
    # Taken over: when the earlier holder's claim began, so no post of its can be older.
    since: datetime | None = None


def take_lease(held_until: datetime | None, now: datetime, length: timedelta) -> Lease | None:
    """A lease on a locked row, unless a live one holds it (then None)."""
    if held_until is not None and held_until > now:
        return None
    return Lease(now + length, taken_over=held_until is not None,
                 since=claimed_since(held_until, length))


def claimed_since(held_until: datetime | None, length: timedelta) -> datetime | None:
    """When the holder of a lease ending at `held_until` took (or last renewed) it: every
    attempt it made is newer. A holder that gave the claim back after an unclear answer left
    `held_until` at that moment, which is later still. None for a claim nobody held."""
    return None if held_until is None else held_until - length


def lease_free(lease_until: InstrumentedAttribute[datetime | None],
               now: datetime) -> ColumnElement[bool]:
    """SQL for "nobody holds a live lease", the same rule as `take_lease`."""
    return or_(lease_until.is_(None), lease_until <= now)


# --- one table of claims ------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """A table whose rows are claims: its unique key, its lease column, and what "open"
    (not done yet) means for a row."""

    model: type[Base]
    id: InstrumentedAttribute[int]
    lease_until: InstrumentedAttribute[datetime | None]
    open: ColumnElement[bool]
    key: tuple[str, ...]  # the unique constraint that names one side effect

    def insert(self, session: Session, values: Mapping[str, Any]) -> int | None:
        """INSERT … ON CONFLICT (key) DO NOTHING: the new row's id, None if the key exists."""
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        return session.scalar(dialect.insert(self.model).values(**values)
                              .on_conflict_do_nothing(index_elements=list(self.key))
                              .returning(self.id))

    def take_over(self, session: Session, where: ColumnElement[bool], *, now: datetime,
                  length: timedelta, values: Mapping[str, Any] | None = None) -> int | None:
        """Lease the open row matching `where` if its lease ran out; its id, or None."""
        return session.scalar(
            update(self.model).where(where, self.open, lease_free(self.lease_until, now))
            .values(lease_until=now + length, **(values or {})).returning(self.id))

    def claim_row(self, session: Session, row_id: int, *, now: datetime,
                  length: timedelta) -> Lease | None:
        """Lock an existing row and lease it, unless it is done or a live lease holds it."""
        held = session.execute(select(self.lease_until).where(self.id == row_id, self.open)
                               .with_for_update()).first()
        if held is None:
            return None
        lease = take_lease(held[0], now, length)
        if lease is not None:
            session.execute(update(self.model).where(self.id == row_id)
                            .values(lease_until=lease.until))
        return lease

    def record(self, session: Session, where: ColumnElement[bool],
               values: Mapping[str, Any]) -> bool:
        """Mark the claim done (with `values`) and clear its lease; False if it is no longer
        open under `where` (someone took it over, or recorded it)."""
        return self._set(session, where, {**values, "lease_until": None})

    def renew(self, session: Session, where: ColumnElement[bool], until: datetime) -> bool:
        """Extend the lease; False if the claim is no longer ours."""
        return self._set(session, where, {"lease_until": until})

    def release(self, session: Session, where: ColumnElement[bool], *,
                retry_at: datetime | None, values: Mapping[str, Any] | None = None) -> None:
        """Give the claim back: free at once (None) or from `retry_at`."""
        self._set(session, where, {**(values or {}), "lease_until": retry_at})

    def _set(self, session: Session, where: ColumnElement[bool],
             values: Mapping[str, Any]) -> bool:
        result = session.execute(update(self.model).where(where, self.open).values(**values))
        assert isinstance(result, CursorResult)
        return int(result.rowcount) == 1


# --- acting: the key travels with the post ------------------------------------------------


def marker(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The `metadata` argument for chat.postMessage."""
    return {"event_type": event_type, "event_payload": payload}


# Slack's clock and ours may differ a little: the window opens this much earlier.
WINDOW_MARGIN = timedelta(minutes=2)


def find_marked(client: WebClient, channel: str, event_type: str, payload: dict[str, Any],
                *, since: datetime | None = None, limit: int = 200) -> str | None:
    """The ts of a message carrying exactly this marker, if the channel has one.

    `since` is when the claim being taken over began (`Lease.since`): every message newer
    than it, less `WINDOW_MARGIN`, is read (`oldest`), page after page through `has_more`
    and `next_cursor`, however busy the channel. Slack may answer fewer messages than asked
    (since 2025 `limit` is capped at 15 for non-Marketplace apps; docs.slack.dev/reference/
    methods/conversations.history, "Pagination" and "Rate limits"), so a count of messages is
    no bound: a post the crash forgot can sit behind any number of newer ones. Without a
    window (None) only the latest `limit` messages are read. Slack errors propagate: the
    caller decides what "cannot tell" means."""
    seen = 0
    cursor: str | None = None
    oldest = None if since is None else f"{(since - WINDOW_MARGIN).timestamp():.6f}"
    while since is not None or seen < limit:
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True,
                                "limit": 200 if since is not None else min(limit - seen, 200)}
        if oldest is not None:
            args["oldest"] = oldest
        if cursor:
            args["cursor"] = cursor
        history = client.conversations_history(**args)
        messages = history.get("messages") or []
        for message in messages:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == event_type and meta.get("event_payload") == payload:
                return str(message.get("ts"))
        seen += len(messages)
        following = str((history.get("response_metadata") or {}).get("next_cursor") or "")
        if not history.get("has_more") or not following or not messages or following == cursor:
            return None
        cursor = following
    return None


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    found: bool  # an earlier attempt had posted it: found in the channel, not posted again


def post_marked(client: WebClient, channel: str, event_type: str, payload: dict[str, Any],
                message: Mapping[str, Any], *, look: bool,
                since: datetime | None = None) -> Posted:
    """Post `message` carrying the key, unless `look` finds it in the channel already (in
    the window from `since`, see `find_marked`). Slack errors propagate: the caller releases
    its claim."""
    if look:
        ts = find_marked(client, channel, event_type, payload, since=since)
        if ts is not None:
            return Posted(channel, ts, found=True)
    response = client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False,
                                       metadata=marker(event_type, payload), **message)
    return Posted(str(response.get("channel") or channel), str(response.get("ts")), found=False)
