"""Anonymous community voice: kept as text and time only, relayed to the backbone once.

What identifies the sender never reaches the database or the logs:
- a `Voice` row has the text, when it arrived and when it was relayed; nothing else;
- nothing in this module logs the user id or the channel, and callers must not either;
- floods are limited by `FloodLimiter`, which lives only in this process's memory and keys
  each sender by an HMAC of the user id under a random key made at start-up and never
  written anywhere. The key dies with the process, so the limiter's entries cannot be
  linked back to a person afterwards, and a restart simply forgets them. Each process
  limits on its own: behind a load balancer with N `serve` processes, a sender gets at most
  N times the allowance, which is enough to stop a flood.

Exactly-once relay comes from the database: `relayed_at` is claimed with a conditional
update before posting, and released again if Slack refuses the post.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.agenda.backbone_posts import FAILED, POSTED, post_once
from bot.rendering import blocks as bk
from bot.rendering.user_text import repost_text
from bot.runtime.caller import require_initiative
from bot.runtime.errors import UserError
from storage.db import Store
from storage.models import Voice

log = logging.getLogger(__name__)

MAX_LENGTH = 2000
FLOOD_LIMIT = 5  # messages per sender…
FLOOD_WINDOW_SECONDS = 3600.0  # …per hour, per process

WHAT_IS_KEPT = (
    "We keep only the text and the time it arrived. We do not keep your name, your user id "
    "or the channel you typed it in, and we do not write them to our logs. The text is "
    "posted as you wrote it, so leave out anything that identifies you if you want to stay "
    "anonymous."
)


class FloodLimiter:
    """A sliding-window limit per sender, with no identity kept on disk or in clear.

    Senders are keyed by HMAC-SHA256(per-process random key, user id); the key is never
    stored or logged. Only monotonic timestamps are kept, and stale senders are dropped.
    """

    def __init__(self, limit: int = FLOOD_LIMIT, window: float = FLOOD_WINDOW_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._key = secrets.token_bytes(32)
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _pseudonym(self, user_id: str) -> str:
        return hmac.new(self._key, user_id.encode(), hashlib.sha256).hexdigest()

    def allow(self, user_id: str) -> bool:
        """Count one message from this sender; False once it is over the limit."""
        now = self._monotonic()
        key = self._pseudonym(user_id)
        with self._lock:
            self._forget_before(now - self.window)
            hits = self._hits.setdefault(key, deque())
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _forget_before(self, cutoff: float) -> None:
        for key in list(self._hits):
            hits = self._hits[key]
            while hits and hits[0] <= cutoff:
                hits.popleft()
            if not hits:
                del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


def clean_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise UserError("Add what you want to say, e.g. `/impact voice The clinic's evening "
                        "hours would help working parents.` It is relayed anonymously.")
    if len(text) > MAX_LENGTH:
        raise UserError(f"That is {len(text)} characters; please keep community voice under "
                        f"{MAX_LENGTH}. Nothing was sent.")
    return text


def record_voice(session: Session, text: str, now: datetime) -> int:
    """Store the text and the time; answer the row id (which identifies no one)."""
    row = Voice(text=text, created_at=now, source="slack", status="approved", counted_at=now)
    session.add(row)
    session.flush()
    return row.id


def unrelayed(session: Session, limit: int = 20) -> list[int]:
    """Voices not yet relayed (the backbone channel was missing, or Slack failed), oldest first."""
    return list(session.scalars(select(Voice.id).where(Voice.relayed_at.is_(None))
                                .order_by(Voice.created_at, Voice.id).limit(limit)))


def voice_count(session: Session, start: datetime, end: datetime) -> int:
    """How many voices started to count in [start, end): the digest's community voice
    count. A voice from the public form counts from its approval; a discarded or pending
    one never does."""
    return int(session.scalar(select(func.count()).select_from(Voice).where(
        Voice.status == "approved", Voice.counted_at >= start, Voice.counted_at < end)) or 0)


def voice_message(text: str, *, voice_id: int | None = None, source: str = "slack"
                  ) -> dict[str, Any]:
    """The backbone channel's message. A voice from the public form (SPEC §13) carries
    Approve / Discard buttons: it counts as community voice only once approved."""
    # Slash-command text arrives with &, < and > as entities: decoded, then made safe once.
    # The public form's text arrives as typed: made safe as it is.
    safe = repost_text(text) if source == "slack" else bk.safe_user_text(text)
    quoted = safe.replace(chr(10), chr(10) + ">")
    if source != "web":
        return bk.message(
            f"Community voice (anonymous): {safe}",
            [bk.section(f":speech_balloon: *Community voice*\n>{quoted}"),
             bk.context("Sent anonymously with `/impact voice`. Impact Bot did not record who "
                        "sent it.")],
        )
    blocks = [bk.section(f":speech_balloon: *Community voice from the public form*\n>{quoted}"),
              bk.context("Sent anonymously through the public voice form. Impact Bot did not "
                         "record who sent it. It counts as community voice once approved.")]
    if voice_id is not None:
        blocks.append(bk.actions(
            bk.button("Approve", APPROVE, str(voice_id), style="primary"),
            bk.button("Discard", DISCARD, str(voice_id), style="danger"),
            block_id=f"voice_review_{voice_id}"))
    return bk.message(f"Community voice from the public form, awaiting approval: {safe}", blocks)


APPROVE = "voice_approve"
DISCARD = "voice_discard"


def relay_pending(store: Store, client: WebClient, channel: str | None, now: datetime) -> int:
    """Post every unrelayed voice to the backbone channel, each exactly once
    (bot/agenda/backbone_posts.py). Answers how many were posted; after a failure the rest wait
    for the next voice or the relay tick."""
    if not channel:
        return 0
    with store.session() as session:
        rows = [session.get_one(Voice, v) for v in unrelayed(session)]
        pending = [(row.id, row.text, row.source) for row in rows]
    posted = 0
    for voice_id, text, source in pending:
        message = voice_message(text, voice_id=voice_id, source=source)
        outcome = post_once(store, client, channel, Voice, voice_id, message, now)
        if outcome == POSTED:
            posted += 1
        elif outcome == FAILED:
            break  # Slack is failing: the rest go out with the next voice or the relay tick
    return posted


def send_voice(store: Store, client: WebClient, limiter: FloodLimiter, user_id: str, raw: str,
               now: datetime) -> bool:
    """`/impact voice TEXT`: check, limit, keep text and time, relay. Answers whether it
    reached the backbone channel. `user_id` goes to the in-memory limiter and nowhere else.
    """
    text = clean_text(raw)
    if not limiter.allow(user_id):
        raise UserError("You have sent a lot of community voice in the last hour; please "
                        "try again later. Nothing was sent.")
    with store.session() as session:
        initiative = require_initiative(session)
        channel = initiative.backbone_channel
        voice_id = record_voice(session, text, now)
    relay_pending(store, client, channel, now)
    with store.session() as session:
        return session.get_one(Voice, voice_id).relayed_at is not None
