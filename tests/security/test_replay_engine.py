"""The replay memory's own SQLite engine (a shorter lock wait than the store's) belongs to
the store: one per store however many guards, and closed with it, so a stopped app leaves
no connection to the database file open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.emulator.sandbox import Sandbox
from bot.runtime.replays import ReplayGuard
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
