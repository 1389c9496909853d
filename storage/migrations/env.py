"""Alembic environment: the engine is handed in by storage.db.upgrade().

With a schema (`upgrade(..., schema=...)`) the migrations run with that schema first on
the search path and keep Alembic's version table there. The app no longer does this (since
0005 every workspace shares the default schema's tables); the tests use it to lay out a
database the way releases before 0005 did, per workspace, and check 0005 moves it in.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 0x1A7B0C  # pg_advisory_lock key shared by every Impact Bot process


def run_migrations_online() -> None:
    engine = config.attributes.get("connection_engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    schema = config.attributes.get("tenant_schema")
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        # A connection of its own, never returned to a pool with a changed search path.
        engine = create_engine(engine.url, poolclass=NullPool)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Rebuilding a table (batch mode) drops it: with foreign keys on, that would
            # cascade into its children. The pragma only takes effect outside a transaction.
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys=OFF")
        if postgres:
            # Processes starting together (web workers, the scheduler) migrate one at a
            # time; the lock goes with the connection.
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.execute(text(f'SET search_path TO "{schema}"'))
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            version_table_schema=schema,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys=ON")
    if postgres:
        engine.dispose()


run_migrations_online()
