"""Engines and sessions: one `Store` per process, one session per unit of work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage.tenancy import current_team, schema_name

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for its backend: SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=NullPool if database in ("", ":memory:") else None,
            **kwargs,
        )
        _tune_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that later writes can fail
        # with "database is locked" instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The database: an engine per tenant and sessions bound to the current one.

    `session()` works in the tenant named by `storage.tenancy.current_team` (the default
    schema when none is set); `global_session()` always works in the default schema, where
    the workspace registry and the OAuth installations live.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._engine_kwargs = engine_kwargs
        self._tenant_engines: dict[str, Engine] = {}
        self._provisioned: set[str] = set()
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def engine_for(self, team_id: str | None) -> Engine:
        """The engine whose tables are `team_id`'s (the default engine for None)."""
        if team_id is None:
            return self.engine
        with self._lock:
            engine = self._tenant_engines.get(team_id)
            if engine is None:
                engine = self._make_tenant_engine(team_id)
                self._tenant_engines[team_id] = engine
            return engine

    def _make_tenant_engine(self, team_id: str) -> Engine:
        schema = schema_name(team_id)
        if self.dialect == "sqlite":
            return make_engine(_sqlite_tenant_url(self.url, schema), **self._engine_kwargs)
        # Same pool, every unqualified table rendered as "<schema>".table.
        return self.engine.execution_options(schema_translate_map={None: schema})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work in the current tenant: committed when the block ends, rolled
        back on any error."""
        engine = self.engine_for(current_team.get())
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def global_session(self) -> Iterator[Session]:
        """A unit of work in the default schema, whatever the current tenant."""
        with self.sessions.begin() as session:
            yield session

    def provision(self, team_id: str) -> None:
        """Create a workspace's tenant and bring its tables up to date (idempotent)."""
        if team_id in self._provisioned:
            return
        if self.dialect == "sqlite":
            upgrade(self.engine_for(team_id))
        else:
            upgrade(self.engine, schema=schema_name(team_id))
        self._provisioned.add(team_id)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # the health check reports, it never raises
            log.warning("database unreachable: %s", type(exc).__name__)
            return False

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        for engine in self._tenant_engines.values():
            engine.dispose()
        self.engine.dispose()


def _sqlite_tenant_url(url: str, schema: str) -> str:
    parsed = make_url(url)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise ValueError("workspace tenants need a SQLite file, not an in-memory database")
    path = Path(database)
    return parsed.set(database=str(path.with_name(f"{path.stem}.{schema}{path.suffix}"))
                      ).render_as_string(hide_password=False)


def alembic_config(engine: Engine | None = None, schema: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["connection_engine"] = engine
    config.attributes["tenant_schema"] = schema
    return config


def upgrade(engine: Engine, revision: str = "head", *, schema: str | None = None) -> None:
    """Apply every migration (idempotent; safe to run on every start).

    With `schema` (PostgreSQL), the tables and Alembic's version table go in that schema.
    """
    from alembic import command

    command.upgrade(alembic_config(engine, schema), revision)
