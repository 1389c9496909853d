"""People's time zones: what `users.info` said, cached in `slack_users`, refreshed weekly.

A reminder is due at the reminder time in the member's *own* zone. Slack knows the zone;
asking it for every member on every tick would be slow (users.info is Tier 4), so the
answer is cached and asked again only when it is older than `REFRESH_AFTER`. Anyone whose
zone Slack cannot tell us gets the initiative's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.runtime.clock import as_utc
from storage.db import Store, session_team, tenant_key
from storage.models import SlackUser

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=7)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def member_zones(store: Store, client: WebClient | None, user_ids: Iterable[str],
                 now: datetime, fallback: ZoneInfo) -> dict[str, ZoneInfo]:
    """Each user's zone: the cache when fresh, else users.info (then cached), else fallback."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    with store.session() as session:
        cached = {row.user_id: (row.tz, as_utc(row.fetched_at)) for row in session.scalars(
            select(SlackUser).where(SlackUser.user_id.in_(wanted)))}
    zones: dict[str, ZoneInfo] = {}
    stale = []
    for user_id in wanted:
        tz, fetched_at = cached.get(user_id, (None, None))
        if fetched_at is None or now - fetched_at >= REFRESH_AFTER:
            stale.append(user_id)
        zones[user_id] = zone_or_none(tz) or fallback
    if client is not None:
        for user_id in stale:
            fetched = refresh_user(store, client, user_id, now)
            if fetched is not None:
                zones[user_id] = zone_or_none(fetched.tz) or fallback
    return zones


def refresh_user(store: Store, client: WebClient, user_id: str,
                 now: datetime) -> SlackUser | None:
    """Ask Slack about one user and cache the answer. None if Slack could not say."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info for %s failed (%s); using the cached or initiative time zone",
                    user_id, exc.response.get("error") if exc.response is not None else exc)
        return None
    except OSError as exc:
        log.warning("users.info for %s failed (%s)", user_id, type(exc).__name__)
        return None
    row = SlackUser(
        user_id=user_id,
        tz=str(user["tz"]) if user.get("tz") else None,
        real_name=str(user.get("real_name") or "")[:200] or None,
        is_bot=bool(user.get("is_bot")),
        fetched_at=now,
    )
    try:
        with store.session() as session:
            # merge = insert or update by primary key; two ticks writing one answer is fine.
            row.team_id = session_team(session)
            session.merge(row)
    except IntegrityError:
        pass  # another process cached the same user at the same moment
    return row


def cached_zone(store: Store, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The cached zone without asking Slack (for answers that only show a date)."""
    with store.session() as session:
        row = session.get(SlackUser, tenant_key(session, user_id))
        return (zone_or_none(row.tz) if row else None) or fallback
