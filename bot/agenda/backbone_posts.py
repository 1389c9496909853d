"""Posting community voice and commitment announcements to the backbone channel, once.

The rows themselves are the claims (bot/exactly_once.py): claim with a lease (real time by
default: it asks whether the poster is alive), post with the row's key in the message
metadata, then record it as posted. A claim whose lease ran out (the poster died, or Slack's
answer left it unknown whether the post went through) is taken over only after a look at the
channel, since that claim began, for a message carrying the same key. A backbone channel
Slack refuses for good (archived, restricted, the bot removed) is parked (bot/parking.py):
nothing is claimed or tried until its recheck, and the backbone's admins are told once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import parking
from bot.exactly_once import REAL_TIME, Lease, Ledger, post_marked
from bot.runtime.clock import Clock
from bot.runtime.slack_client import is_transient
from storage.db import Store
from storage.models import Commitment, Voice

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
EVENT_TYPE = "impactbot_backbone_post"

Row = type[Voice] | type[Commitment]
PostResult = Literal["posted", "busy", "failed"]
POSTED: PostResult = "posted"
BUSY: PostResult = "busy"
FAILED: PostResult = "failed"

VOICES = Ledger(Voice, Voice.id, Voice.lease_until, Voice.relayed_at.is_(None), key=("id",))
ANNOUNCEMENTS = Ledger(Commitment, Commitment.id, Commitment.lease_until,
                       Commitment.announced_at.is_(None), key=("id",))


def _ledger(model: Row) -> Ledger:
    return VOICES if model is Voice else ANNOUNCEMENTS


def claim(store: Store, model: Row, row_id: int, now: datetime) -> Lease | None:
    """This worker's right to post the row, or None (posted already, or someone is on it)."""
    with store.session() as session:
        return _ledger(model).claim_row(session, row_id, now=now, length=LEASE)


def post_once(store: Store, client: WebClient, channel: str, model: Row, row_id: int,
              message: dict[str, Any], now: datetime, *,
              lease_clock: Clock = REAL_TIME) -> PostResult:
    """Post `message` for the row unless it is posted or being posted. Answers POSTED (by
    this call), BUSY (posted already, or another worker holds the claim) or FAILED (Slack
    did not take it, or the channel is parked; it stays pending). `now` is recorded and
    parks; leases run on `lease_clock`."""
    kind = "voice" if model is Voice else "commitment"
    ledger = _ledger(model)
    gate = parking.enter_store(store, channel, now)
    if gate == "parked":
        return FAILED
    claimed = claim(store, model, row_id, lease_clock.now())
    if claimed is None:
        return BUSY
    try:
        post_marked(client, channel, EVENT_TYPE, {"kind": kind, "id": row_id}, message,
                    look=claimed.taken_over, since=claimed.since)
    except (SlackApiError, OSError) as exc:
        error = parking.error_of(exc) if isinstance(exc, SlackApiError) else ""
        if parking.refused_for_good(channel, error):
            with store.session() as session:
                ledger.release(session, ledger.id == row_id, retry_at=None)
            parking.park_store(store, channel, error, parking.BACKBONE_POSTS, now)
            parking.tell_untold(store, client, now)
            return FAILED
        unsure = is_transient(exc)
        log.warning("could not post %s %s to the backbone channel%s", kind, row_id,
                    " (Slack may have it; the retry looks first)" if unsure else "")
        # At once after a refusal; with a look first when Slack may have posted it.
        with store.session() as session:
            ledger.release(session, ledger.id == row_id,
                           retry_at=lease_clock.now() if unsure else None)
        return FAILED
    posted_field = "relayed_at" if model is Voice else "announced_at"
    with store.session() as session:
        ledger.record(session, ledger.id == row_id, {posted_field: now})
    if gate == "recheck":
        parking.unpark(store, channel)
    return POSTED
