"""The benches' scratch store: migrated and empty before it is filled, and its planner
statistics brought up to date after (as autovacuum and `ANALYZE` would in production)."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Store
from tests.support.databases import truncate_postgres


def scratch_store(url: str) -> Store:
    """The store at `url`, migrated; on PostgreSQL every table emptied first."""
    store = Store(url)
    store.upgrade()
    if store.dialect == "postgresql":
        truncate_postgres(url)
    return store


def analyze(store: Store) -> None:
    """Fresh planner statistics for the rows just loaded."""
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            connection.exec_driver_sql("ANALYZE")
