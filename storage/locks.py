"""One provisioner at a time: migrations, the scheduler's job table and initiative imports
run under a database-wide lock, so processes starting together (web workers, schedulers,
`impactbot import`) take turns; the loser waits, then finds the work done and carries on.

PostgreSQL: a session-level advisory lock on a connection of its own. SQLite: an exclusive
file lock on `<database>.lock` beside the database file (the write lock of SQLite itself
does not cover DDL done by other libraries across several transactions), plus a process
lock for in-memory databases.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

# pg_advisory_lock key; not the migrations' own key (storage/migrations/env.py), which is
# taken inside this one on another connection.
PROVISION_LOCK = 0x1A7B0D
_in_process = threading.RLock()


@contextmanager
def provisioning(engine: Engine) -> Iterator[None]:
    """Hold the database-wide provisioning lock for the block."""
    if engine.dialect.name == "postgresql":
        locker = create_engine(engine.url, poolclass=NullPool)
        try:
            with locker.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"),
                                   {"key": PROVISION_LOCK})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": PROVISION_LOCK})
                    connection.commit()
        finally:
            locker.dispose()
        return
    database = engine.url.database or ""
    with _in_process:
        if database in ("", ":memory:"):
            yield
            return
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
