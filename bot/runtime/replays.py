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
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, delete, event, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from storage.db import Store
from storage.models import SignedRequest

log = logging.getLogger(__name__)

# Bolt (slack_sdk's SignatureVerifier) refuses timestamps more than 5 minutes from now, in
# either direction; a pair is remembered a little longer than that.
WINDOW_SECONDS = 5 * 60
KEEP_SECONDS = 2 * WINDOW_SECONDS
PURGE_EVERY_SECONDS = 60.0
# The check runs before the ack. On SQLite its INSERT is one statement, its own transaction
# (no BEGIN IMMEDIATE held across Python code), so it waits only for another writer's
# transaction to end: at most this long (not the store's 10 s) for its group's turn, and as
# long again for the lock, well inside Slack's 3 s.
SQLITE_LOCK_WAIT_MS = 1000


def _guard_engine(store: Store) -> Engine:
    """The store's engine in autocommit (the INSERT alone: no BEGIN and COMMIT round trips);
    on SQLite, the store's companion engine with a shorter lock wait and no BEGIN (one per
    store, however many guards, disposed with the store)."""
    if store.dialect != "sqlite":
        return store.autocommit
    return store.companion_engine("replays", _short_lock_wait, immediate=False)


def _short_lock_wait(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:  # after make_engine's
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        cursor.close()


Pair = tuple[int, str]


@dataclass
class _Waiting:
    """A pair handed to the group writer, and what became of it."""

    done: threading.Event = field(default_factory=threading.Event)
    replayed: bool = False
    error: SQLAlchemyError | None = None


class _GroupWriter:
    """SQLite takes one writer at a time, and its lock wait is a sleep-and-retry lottery, not
    a queue: under a burst (hundreds of first requests at once) most inserts went through in
    milliseconds while a few lost every draw for the whole second and went unrecorded. Here a
    process's pairs queue in Python instead: when no batch is being written, the thread that
    finds so takes every pair queued and writes them in one statement (`INSERT … ON CONFLICT
    DO NOTHING RETURNING`: the rows not returned were there already, i.e. replays), then
    wakes everyone; a thread whose pair was in it returns at once."""

    # A batch's outcome is always set (`finally`); this only bounds a wait that something
    # outside this class broke.
    OUTCOME_WAIT = 30.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._changed = threading.Condition()
        self._queue: dict[Pair, _Waiting] = {}
        self._in_flight: dict[Pair, _Waiting] = {}  # the batch being written
        self._writing = False

    def record(self, pair: Pair, wait_seconds: float) -> None:
        """Raises IntegrityError when the pair is recorded already (or is queued or being
        written for another request), OperationalError when it could not be written within
        `wait_seconds` (plus the write under way that took it)."""
        deadline = time.monotonic() + wait_seconds
        with self._changed:
            if pair in self._queue or pair in self._in_flight:  # the same request, at once
                raise IntegrityError("duplicate signed request", None, Exception())
            waiting = self._queue[pair] = _Waiting()
            while self._writing and not waiting.done.is_set():
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                elif self._queue.get(pair) is waiting:  # not taken by a batch: withdraw
                    del self._queue[pair]
                    raise OperationalError("waiting for the write turn", None,
                                           Exception("timed out"))
                elif not self._changed.wait_for(waiting.done.is_set, self.OUTCOME_WAIT):
                    raise OperationalError("waiting for a batch", None, Exception("timed out"))
            batch: dict[Pair, _Waiting] = {}
            if not waiting.done.is_set():  # nobody is writing, and this pair is queued
                batch, self._queue, self._in_flight = self._queue, {}, self._queue
                self._writing = True
        if batch:
            self._write(batch)
        if waiting.error is not None:
            raise waiting.error
        if waiting.replayed:
            raise IntegrityError("signed request already recorded", None, Exception())

    def _write(self, batch: dict[Pair, _Waiting]) -> None:
        written: set[Pair] = set()
        error: SQLAlchemyError | None = OperationalError(
            "recording signed requests", None, Exception("interrupted"))
        try:
            with self.engine.begin() as connection:
                written = {(t, s) for t, s in connection.execute(
                    sqlite_insert(SignedRequest)
                    .values([{"timestamp": t, "signature": s} for t, s in batch])
                    .on_conflict_do_nothing()
                    .returning(SignedRequest.timestamp, SignedRequest.signature))}
            error = None
        except SQLAlchemyError as exc:
            error = exc
        finally:  # whatever happened, every waiter of the batch learns its outcome
            with self._changed:
                for pair, waiting in batch.items():
                    waiting.error = error
                    waiting.replayed = pair not in written
                    waiting.done.set()
                self._in_flight = {}
                self._writing = False
                self._changed.notify_all()


class ReplayGuard:
    def __init__(self, store: Store, signing_secret: str) -> None:
        self.engine = _guard_engine(store)
        self._group = _GroupWriter(self.engine) if store.dialect == "sqlite" else None
        self.verifier = SignatureVerifier(signing_secret)
        self._lock = threading.Lock()
        self._next_purge = 0.0
        # Pairs accepted while the database could not record them: refused again by this
        # process, and recorded for every process once the database answers.
        self._unrecorded: set[Pair] = set()

    def is_replay(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """True when this validly signed request was already accepted. Requests that are not
        validly signed are not remembered (Bolt refuses them with 401 right after)."""
        if not timestamp or not timestamp.isdigit() or not signature or len(signature) > 80:
            return False
        if not self.verifier.is_valid(body, timestamp, signature):
            return False
        pair = (int(timestamp), signature)
        with self._lock:
            if pair in self._unrecorded:
                return True
        self._purge_now_and_then()
        try:
            self._record(pair)
        except IntegrityError:
            return True
        except SQLAlchemyError as exc:
            # The database is down or locked past the wait: the request goes on (its own
            # work will meet the same outage and say so), remembered here until it can be
            # recorded.
            log.warning("could not record a signed request: %s", type(exc).__name__)
            with self._lock:
                self._unrecorded.add(pair)
            return False
        if self._unrecorded:
            self._record_unrecorded()
        return False

    def _record(self, pair: Pair) -> None:
        if self._group is not None:
            self._group.record(pair, SQLITE_LOCK_WAIT_MS / 1000)
            return
        with self.engine.begin() as connection:
            connection.execute(insert(SignedRequest).values(timestamp=pair[0],
                                                            signature=pair[1]))

    def _record_unrecorded(self) -> None:
        with self._lock:
            pending, self._unrecorded = self._unrecorded, set()
        for pair in pending:
            try:
                self._record(pair)
            except IntegrityError:
                pass  # another process accepted the same pair meanwhile: nothing to add
            except SQLAlchemyError:
                with self._lock:
                    self._unrecorded.add(pair)

    def _purge_now_and_then(self) -> None:
        now = time.time()
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY_SECONDS
            self._unrecorded = {p for p in self._unrecorded if p[0] >= int(now) - KEEP_SECONDS}
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(SignedRequest).where(
                    SignedRequest.timestamp < int(now) - KEEP_SECONDS))
        except SQLAlchemyError as exc:
            log.warning("could not forget old signed requests: %s", type(exc).__name__)
