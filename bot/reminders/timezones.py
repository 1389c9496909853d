"""People's time zones: cached in `slack_users`, from Slack at most once a day per person.

A reminder is due at the reminder time in the member's *own* zone. Slack knows the zone;
asking it for every member on every tick would be slow (users.info is Tier 4), so each
answer is cached with the time it was asked for, and a person is asked about again only
when that is `REFRESH_AFTER` old. A failed look-up is remembered the same way (with its
error), so nobody is asked about on every tick while Slack keeps failing. Between
look-ups, Slack's `user_change` event (sent when someone edits their profile, their zone
included) updates the cache at once (`note_user_change`). Anyone whose zone Slack cannot
tell us gets the initiative's zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.runtime.clock import as_utc
from storage.db import Store, tenant_key
from storage.models import SlackUser
from storage.upserts import upsert

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=1)
# At most this many known-but-old zones are asked about again per call, oldest first (the
# rest keep their cached zone a little longer): a whole workspace whose answers all turn a
# day old together does not become one tick of thousands of calls. People with no cached
# zone at all are always asked.
REFRESH_PER_CALL = 100
READ_CHUNK = 1000  # user ids per cache read (a statement's size does not grow with members)
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def member_zones(store: Store, client: WebClient | None, user_ids: Iterable[str],
                 now: datetime, fallback: ZoneInfo) -> dict[str, ZoneInfo]:
    """Each user's zone: the cache while under a day old, else users.info (then cached),
    else the cached zone, else `fallback`."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    cached = _cached(store, wanted)
    zones: dict[str, ZoneInfo] = {}
    unknown: list[str] = []
    old: list[tuple[datetime, str]] = []
    for user_id in wanted:
        tz, fetched_at = cached.get(user_id, (None, None))
        zones[user_id] = zone_or_none(tz) or fallback
        if fetched_at is None:
            unknown.append(user_id)
        elif now - fetched_at >= REFRESH_AFTER:
            old.append((fetched_at, user_id))
    if client is not None:
        ask = unknown + [user_id for _, user_id in sorted(old)[:REFRESH_PER_CALL]]
        for user_id in ask:
            answered, tz = refresh_user(store, client, user_id, now)
            if answered:
                zones[user_id] = zone_or_none(tz) or fallback
    return zones


def _cached(store: Store, user_ids: list[str]) -> dict[str, tuple[str | None, datetime]]:
    found: dict[str, tuple[str | None, datetime]] = {}
    with store.session() as session:
        for start in range(0, len(user_ids), READ_CHUNK):
            rows = session.execute(
                select(SlackUser.user_id, SlackUser.tz, SlackUser.fetched_at)
                .where(SlackUser.user_id.in_(user_ids[start:start + READ_CHUNK])))
            found.update({row.user_id: (row.tz, as_utc(row.fetched_at)) for row in rows})
    return found


def refresh_user(store: Store, client: WebClient, user_id: str,
                 now: datetime) -> tuple[bool, str | None]:
    """Ask Slack about one user and cache the answer: whether Slack answered, and the zone
    it gave. A failure is cached too (the zone cached before is kept)."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, OSError) as exc:
        error = (str(exc.response.get("error")) if isinstance(exc, SlackApiError)
                 and exc.response is not None else type(exc).__name__)
        log.warning("users.info for %s failed (%s); using the cached or initiative time zone "
                    "until tomorrow", user_id, error)
        _remember_failure(store, user_id, error[:64], now)
        return False, None
    row = _row_from_slack(user_id, user, now)
    with store.session() as session:
        upsert(session, SlackUser, row, update=row.keys() - {"user_id"})
    return True, row["tz"]


def _remember_failure(store: Store, user_id: str, error: str, now: datetime) -> None:
    values = {"user_id": user_id, "tz": None, "real_name": None, "is_bot": False,
              "fetched_at": now, "lookup_error": error}
    with store.session() as session:
        # What Slack said before stays; only when it was asked and what went wrong change.
        upsert(session, SlackUser, values, update=("fetched_at", "lookup_error"))


def _row_from_slack(user_id: str, user: dict[str, Any], now: datetime) -> dict[str, Any]:
    tz = user.get("tz")
    return {
        "user_id": user_id,
        # A zone name longer than the column is no zone ZoneInfo knows either.
        "tz": str(tz) if isinstance(tz, str) and tz and len(tz) <= 64 else None,
        "real_name": str(user.get("real_name") or "")[:200] or None,
        "is_bot": bool(user.get("is_bot")),
        "fetched_at": now,
        "lookup_error": None,
    }


def note_user_change(store: Store, user: Any, now: datetime) -> bool:
    """Cache what a `user_change` event says of a person (their whole user object, zone
    included). Whether it was cached: a malformed user is ignored."""
    if not isinstance(user, dict):
        return False
    user_id = user.get("id")
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        return False
    row = _row_from_slack(user_id, user, now)
    with store.session() as session:
        upsert(session, SlackUser, row, update=row.keys() - {"user_id"})
    return True


def cached_zone(store: Store, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The cached zone without asking Slack (for answers that only show a date)."""
    with store.session() as session:
        row = session.get(SlackUser, tenant_key(session, user_id))
        return (zone_or_none(row.tz) if row else None) or fallback
