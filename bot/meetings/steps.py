"""Meeting steps sent once each (SPEC §11): agenda requests, the agenda post with what needs
attention and the .ics, cancellations, and the follow-up DMs after the notes. Each is
claimed in `meeting_posts` under its key before it is sent (bot/exactly_once.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.exactly_once import REAL_TIME, Ledger, post_marked
from bot.runtime.services import Services
from storage.calendar_models import MeetingPost

log = logging.getLogger(__name__)

EVENT_TYPE = "impactbot_meeting"
LEASE = timedelta(minutes=2)
LEDGER = Ledger(MeetingPost, MeetingPost.id, MeetingPost.lease_until,
                MeetingPost.sent_at.is_(None), key=("team_id", "dedupe_key"))


def sent_keys(services: Services, prefix: str) -> set[str]:
    with services.store.session() as session:
        return set(session.scalars(select(MeetingPost.dedupe_key).where(
            MeetingPost.dedupe_key.startswith(prefix, autoescape=True),
            MeetingPost.sent_at.is_not(None))))


def send_once(services: Services, client: WebClient, key: str, channel: str,
              message: Mapping[str, Any], now: datetime) -> tuple[str, str] | None:
    """Post `message` under `key` unless it went out already or another worker holds it;
    the (channel, ts) posted, or None."""
    wall = REAL_TIME.now()
    with services.store.session() as session:
        row_id = LEDGER.insert(session, {"dedupe_key": key, "created_at": now,
                                         "lease_until": wall + LEASE})
        lease = None
        if row_id is None:
            existing = session.scalar(select(MeetingPost.id).where(
                MeetingPost.dedupe_key == key))
            lease = None if existing is None else LEDGER.claim_row(
                session, existing, now=wall, length=LEASE)
            if lease is None:
                return None
            row_id = existing
    try:
        target = channel
        if lease is not None and lease.taken_over and channel.startswith(("U", "W")):
            opened = client.conversations_open(users=channel)
            target = str((opened.get("channel") or {}).get("id") or channel)
        posted = post_marked(client, target, EVENT_TYPE, {"key": key}, message,
                             look=bool(lease and lease.taken_over),
                             since=lease.since if lease else None)
    except (SlackApiError, OSError) as exc:
        log.warning("could not send meeting step %s: %s", key, type(exc).__name__)
        with services.store.session() as session:
            LEDGER.release(session, MeetingPost.id == row_id, retry_at=REAL_TIME.now())
        return None
    with services.store.session() as session:
        LEDGER.record(session, MeetingPost.id == row_id,
                      {"sent_at": now, "channel": posted.channel, "ts": posted.ts})
    return posted.channel, posted.ts
