"""Posting community voice and commitment announcements to the backbone channel, once.

Claim with a lease (on the real clock: it asks whether the poster is alive), post with the
row's key in the message metadata, then record it as posted. A claim whose lease ran out
(the poster died, or Slack's answer left it unknown whether the post went through) is taken
over only after a look at the channel for a message carrying the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exactly_once import find_marked, marker
from bot.runtime.clock import SystemClock
from bot.wins.deferred import is_transient
from storage.db import Store
from storage.models import Commitment, Voice

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
EVENT_TYPE = "impactbot_backbone_post"
HISTORY_CHECKED = 100  # messages looked at when taking over an expired claim

Row = type[Voice] | type[Commitment]


@dataclass(frozen=True)
class Claim:
    row_id: int
    taken_over: bool  # an earlier claim ran out: look before posting


def _posted_at(row: Voice | Commitment) -> datetime | None:
    return row.relayed_at if isinstance(row, Voice) else row.announced_at


def _get(session: Session, model: Row, row_id: int, *, lock: bool = False
         ) -> Voice | Commitment | None:
    if model is Voice:
        voice = select(Voice).where(Voice.id == row_id)
        return session.scalar(voice.with_for_update() if lock else voice)
    commitment = select(Commitment).where(Commitment.id == row_id)
    return session.scalar(commitment.with_for_update() if lock else commitment)


def claim(store: Store, model: Row, row_id: int) -> Claim | None:
    """This worker's right to post the row, or None (posted already, or someone is on it)."""
    now = SystemClock().now()
    with store.session() as session:
        row = _get(session, model, row_id, lock=True)
        if row is None or _posted_at(row) is not None:
            return None
        if row.lease_until is not None and row.lease_until > now:
            return None
        taken_over = row.lease_until is not None
        row.lease_until = now + LEASE
    return Claim(row_id, taken_over)


POSTED, BUSY, FAILED = "posted", "busy", "failed"


def post_once(store: Store, client: WebClient, channel: str, model: Row, row_id: int,
              message: dict[str, Any], now: datetime) -> str:
    """Post `message` for the row unless it is posted or being posted. Answers POSTED (by
    this call), BUSY (posted already, or another worker holds the claim) or FAILED (Slack
    did not take it; it stays pending)."""
    kind = "voice" if model is Voice else "commitment"
    claimed = claim(store, model, row_id)
    if claimed is None:
        return BUSY
    key = {"kind": kind, "id": row_id}
    try:
        if claimed.taken_over and find_marked(client, channel, EVENT_TYPE, key,
                                              limit=HISTORY_CHECKED):
            _record(store, model, row_id, now)
            return POSTED
        client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False,
                                metadata=marker(EVENT_TYPE, key),
                                **message)
    except (SlackApiError, OSError) as exc:
        unsure = is_transient(exc)
        log.warning("could not post %s %s to the backbone channel%s", kind, row_id,
                    " (Slack may have it; the retry looks first)" if unsure else "")
        _release(store, model, row_id, unsure=unsure)
        return FAILED
    _record(store, model, row_id, now)
    return POSTED


def _record(store: Store, model: Row, row_id: int, now: datetime) -> None:
    with store.session() as session:
        row = _get(session, model, row_id)
        if row is None:
            return
        if isinstance(row, Voice):
            row.relayed_at = now
        else:
            row.announced_at = now
        row.lease_until = None


def _release(store: Store, model: Row, row_id: int, *, unsure: bool) -> None:
    """Let a later attempt claim it: at once after a refusal, with a look first when the
    answer left it unknown whether Slack posted it."""
    with store.session() as session:
        row = _get(session, model, row_id)
        if row is not None:
            row.lease_until = SystemClock().now() if unsure else None
