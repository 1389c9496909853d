"""Replayed signed requests: each (timestamp, signature) pair Slack signed is acted on once.

Slack signs `v0:{timestamp}:{body}` and Bolt accepts a signature for five minutes, so a
request captured on the way (a proxy's log, a leaked trace) could be sent again within that
window and act again: record a report, a win, a voice twice. Slack itself never sends the
same pair twice: an Events API retry is a new request with its own timestamp and signature
(and the `X-Slack-Retry-Num` de-duplication by event id handles those). The memory is the
database, so it holds across gunicorn workers, processes and restarts; rows older than the
window are deleted as new ones arrive.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, delete, event
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from storage.db import Store
from storage.models import SignedRequest

log = logging.getLogger(__name__)

# Bolt (slack_sdk's SignatureVerifier) refuses timestamps more than 5 minutes from now, in
# either direction; a pair is remembered a little longer than that.
WINDOW_SECONDS = 5 * 60
KEEP_SECONDS = 2 * WINDOW_SECONDS
PURGE_EVERY_SECONDS = 60.0
# The check runs before the ack: on SQLite it waits at most this long for another writer's
# lock (not the store's 10 s), then lets the request through unrecorded.
SQLITE_LOCK_WAIT_MS = 250


def _guard_engine(store: Store) -> Engine:
    """The store's engine; on SQLite, the store's companion engine with a short lock wait
    (one per store, however many guards, disposed with the store)."""
    if store.dialect != "sqlite":
        return store.engine
    return store.companion_engine("replays", _short_lock_wait)


def _short_lock_wait(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:  # after make_engine's
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        cursor.close()


class ReplayGuard:
    def __init__(self, store: Store, signing_secret: str) -> None:
        self.engine = _guard_engine(store)
        self.verifier = SignatureVerifier(signing_secret)
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def is_replay(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """True when this validly signed request was already accepted. Requests that are not
        validly signed are not remembered (Bolt refuses them with 401 right after)."""
        if not timestamp or not timestamp.isdigit() or not signature or len(signature) > 80:
            return False
        if not self.verifier.is_valid(body, timestamp, signature):
            return False
        self._purge_now_and_then()
        try:
            with Session(self.engine) as session, session.begin():
                session.add(SignedRequest(timestamp=int(timestamp), signature=signature))
        except IntegrityError:
            return True
        except SQLAlchemyError as exc:
            # The database is down: the request goes on (its own work will meet the same
            # outage and say so); a replay cannot be refused during the outage.
            log.warning("could not record a signed request: %s", type(exc).__name__)
        return False

    def _purge_now_and_then(self) -> None:
        now = time.time()
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY_SECONDS
        try:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(SignedRequest).where(
                    SignedRequest.timestamp < int(now) - KEEP_SECONDS))
        except SQLAlchemyError as exc:
            log.warning("could not forget old signed requests: %s", type(exc).__name__)
