"""The replay memory's own SQLite engine (a shorter lock wait than the store's) belongs to
the store: one per store however many guards, and closed with it, so a stopped app leaves
no connection to the database file open. A request it could not record is still refused
when replayed."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.emulator.sandbox import Sandbox
from bot.runtime import replays
from bot.runtime.replays import ReplayGuard
from storage.db import Store
from tests.support.world import NOW, import_example, populate_world


def _open_files(database: Path) -> list[str]:
    """This process's open descriptors on the database file (and its -wal and -shm)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(database)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_stopped_app_leaves_no_connection_to_the_sqlite_file_open(
        database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("on PostgreSQL the replay memory uses the store's own engine")
    database = Path(make_url(database_url).database or "").resolve()
    sandbox = Sandbox(database_url, now=NOW, upgrade=False).start()
    try:
        populate_world(sandbox)
        import_example(sandbox.store)
        reply = sandbox.driver.command("U0AAA", "help")  # signed: recorded by the guard
        sandbox.settle()
        assert reply.status == 200
        secret = sandbox.settings.signing_secret or ""
        first, second = ReplayGuard(sandbox.store, secret), ReplayGuard(sandbox.store, secret)
        assert first.engine is second.engine is not sandbox.store.engine
        assert _open_files(database)  # the check works: the app holds the file open
    finally:
        sandbox.stop()

    assert _open_files(database) == []


def _signed(secret: str, text: str) -> tuple[bytes, str, str]:
    body = f"command=%2Fimpact&text={text}".encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body,
                      hashlib.sha256).hexdigest()
    return body, timestamp, f"v0={digest}"


def test_a_request_let_through_unrecorded_is_still_refused_when_replayed(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite locked past the guard's wait (a long import, a backup): the request goes on
    unrecorded, but its worker refuses a replay of it, and records it for every worker as
    soon as the database takes writes again."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(replays, "SQLITE_LOCK_WAIT_MS", 50)  # read when a connection opens
    secret = "replay-memory-secret-value"
    worker_a, worker_b = Store(database_url), Store(database_url)  # two processes' stores
    try:
        first, second = ReplayGuard(worker_a, secret), ReplayGuard(worker_b, secret)
        captured = _signed(secret, "report")
        locker = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            assert first.is_replay(*captured) is False  # let through: it could not be recorded
            assert first.is_replay(*captured) is True  # …but this worker remembers it
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert first.is_replay(*_signed(secret, "help")) is False  # records both now

        assert second.is_replay(*captured) is True  # refused by every worker
        assert first.is_replay(*captured) is True
    finally:
        worker_a.dispose()
        worker_b.dispose()


def test_a_request_replayed_many_times_at_the_same_moment_is_acted_on_once(
        database_url: str) -> None:
    """A captured request fired from many connections at once, among genuine ones: exactly
    one copy gets through, and every genuine request does (on SQLite they are written in
    groups; a copy in the same group as the original is still a replay)."""
    secret = "replay-memory-secret-value"
    store = Store(database_url)
    store.upgrade()
    try:
        guard = ReplayGuard(store, secret)
        captured = _signed(secret, "report")
        genuine = [_signed(secret, f"help-{n}") for n in range(40)]
        requests = [captured] * 40 + genuine
        gate = threading.Barrier(len(requests))

        def send(request: tuple[bytes, str, str]) -> bool:
            gate.wait()
            return guard.is_replay(*request)

        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            replayed = list(pool.map(send, requests))
    finally:
        store.dispose()

    assert replayed[:40].count(False) == 1
    assert replayed[40:] == [False] * 40
