"""Engines and sessions: one `Store` per process, one session per unit of work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    configure_mappers,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.sql.dml import Insert

from storage import due, report_totals
from storage.locks import provisioning
from storage.tenancy import DEFAULT_TEAM, TEAM_KEY, Tenant, current_scope

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, *, immediate: bool = True, **kwargs: Any) -> Engine:
    """An engine tuned for its backend: SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE
    (without `immediate`, no BEGIN at all: each statement is its own transaction)."""
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
        _tune_sqlite(engine, immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Up to 15 connections, 10 of them kept: a gunicorn worker's request threads and its
    # listeners' threads busy at once (a burst) would otherwise open and close a
    # connection (a PostgreSQL backend) for most of their statements.
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 5)
    return create_engine(url, **kwargs)


def _tune_sqlite(engine: Engine, immediate: bool) -> None:
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

    if not immediate:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that later writes can fail
        # with "database is locked" instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _reading(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # after _tune_sqlite's
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Deferred: a snapshot at the first read, and no lock that keeps writers out (WAL).
        connection.exec_driver_sql("BEGIN")


class Store:
    """The database: one engine per process, shared by every workspace tenant.

    `session()` works in the tenant named by `storage.tenancy.current_team` (the default
    tenant when none is set); `global_session()` always works in the default tenant, where
    the workspace registry lives (the OAuth tables are slack_sdk's and not scoped).
    SQLAlchemy, not the callers, confines each session to its tenant (`_confine`).
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, class_=TenantSession, expire_on_commit=False)
        self._companions: dict[str, Engine] = {}
        self._companions_lock = threading.Lock()
        # The same engine and pool, each statement its own transaction (PostgreSQL).
        self.autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_sessions = sessionmaker(self._reading_engine(), class_=TenantSession,
                                           expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work in the current tenant: committed when the block ends, rolled
        back on any error."""
        with self._session(current_scope()) as session:
            yield session

    @contextmanager
    def global_session(self) -> Iterator[Session]:
        """A unit of work in the default tenant, whatever the current one."""
        with self._session(DEFAULT_TEAM) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A unit of work that only reads, in the current tenant: one snapshot, so on SQLite
        it neither waits for the write lock nor holds it (`_reading_engine`). Writing in it
        fails on SQLite (query_only)."""
        with self._read_sessions(info={TEAM_KEY: current_scope()}) as session, \
                session.begin():
            yield session

    @contextmanager
    def _session(self, team_id: str) -> Iterator[Session]:
        with self.sessions(info={TEAM_KEY: team_id}) as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # the health check reports, it never raises
            log.warning("database unreachable: %s", type(exc).__name__)
            return False

    def upgrade(self) -> None:
        """Bring the schema up to date, one process at a time (storage/locks.py)."""
        with self.provisioning():
            upgrade(self.engine)

    @contextmanager
    def provisioning(self) -> Iterator[None]:
        """Hold the database-wide lock for schema and setup work (storage/locks.py)."""
        with provisioning(self.engine):
            yield

    def companion_engine(self, name: str, configure: Callable[[Engine], None], *,
                         immediate: bool = True) -> Engine:
        """A second engine on the same database with its own connection settings (e.g. a
        shorter SQLite lock wait), made once per store and `name`, and disposed with it."""
        with self._companions_lock:
            engine = self._companions.get(name)
            if engine is None:
                engine = make_engine(self.url, immediate=immediate)
                configure(engine)
                self._companions[name] = engine
            return engine

    @property
    def reader(self) -> Engine:
        """For one-statement look-ups on the request path (the workspace's bot token and
        tenant). On SQLite, the reading engine (`read_session`); on PostgreSQL the store's
        engine in autocommit: no BEGIN and ROLLBACK round trips around the one SELECT."""
        if self.dialect != "sqlite":
            return self.autocommit
        return self._reading_engine()

    def _reading_engine(self) -> Engine:
        """On SQLite the store's engine takes the write lock for every transaction (BEGIN
        IMMEDIATE), so readers would queue behind every writer and hold writers up in turn:
        this one begins deferred transactions (WAL: a snapshot, and no lock that keeps
        writers out) and may not write (`query_only`). On PostgreSQL, the store's engine."""
        if self.dialect != "sqlite":
            return self.engine
        return self.companion_engine("reads", _reading, immediate=False)

    def warm(self, connections: int) -> None:
        """Do now what the first requests of a fresh process would otherwise all do at
        once: configure the ORM mappers, and open up to `connections` connections per
        engine (as many as its pool keeps)."""
        configure_mappers()
        with self._companions_lock:
            engines = [self.engine, *self._companions.values()]
        for engine in engines:
            keeps = engine.pool.size() if isinstance(engine.pool, QueuePool) else 0
            opened = [engine.connect() for _ in range(min(connections, keeps))]
            for connection in opened:
                connection.close()

    def dispose(self) -> None:
        with self._companions_lock:
            companions, self._companions = list(self._companions.values()), {}
        for engine in companions:
            engine.dispose()
        self.engine.dispose()


# --- confining a session to its tenant ----------------------------------------------------



class TenantSession(Session):
    """A session that reads and writes one tenant's rows only (its `info[TEAM_KEY]`)."""


def session_team(session: Session) -> str:
    team_id = session.info.get(TEAM_KEY)
    if team_id is None:
        raise RuntimeError("a tenant session was opened without a team (use Store.session())")
    return str(team_id)


@event.listens_for(TenantSession, "do_orm_execute")
def _confine(state: ORMExecuteState) -> None:
    """Every ORM statement of the session: SELECT/UPDATE/DELETE see only the session's
    tenant; INSERT writes it (whatever team_id the caller gave)."""
    team_id = session_team(state.session)
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            due.note_write(state.session.info, table.name)
    if state.is_insert:
        statement = state.statement
        if isinstance(statement, Insert) and "team_id" in statement.table.c:
            state.statement = statement.values(team_id=team_id)
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(with_loader_criteria(
            Tenant, lambda cls: cls.team_id == team_id, include_aliases=True))


@event.listens_for(TenantSession, "before_flush")
def _stamp(session: Session, _context: Any, _instances: Any) -> None:
    """New objects belong to the session's tenant; no object may move to another."""
    team_id = session_team(session)
    for instance in session.new:
        if isinstance(instance, Tenant):
            instance.team_id = team_id
    for instance in session.dirty:
        if isinstance(instance, Tenant) and instance.team_id != team_id:
            raise RuntimeError("a row cannot move to another workspace")


@event.listens_for(TenantSession, "after_flush")
def _note_flushed(session: Session, _context: Any) -> None:
    """Which tables this flush wrote (for the due-work marks made at commit)."""
    changed = [i for i in session.dirty if session.is_modified(i, include_collections=False)]
    for instance in (*session.new, *changed, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table is not None:
            due.note_write(session.info, table)
    report_totals.note_written(session.info, (*session.new, *changed, *session.deleted))


@event.listens_for(TenantSession, "after_flush_postexec")
def _keep_totals(session: Session, _context: Any) -> None:
    """Reports this flush wrote: their periods' totals worked out again at once, in the
    same transaction (storage/report_totals.py), so any later read sees them."""
    report_totals.refresh(session, report_totals.take_written(session.info))


@event.listens_for(TenantSession, "before_commit")
def _mark_due(session: Session) -> None:
    """Make the jobs that watch what this transaction wrote due now (storage/due.py),
    in the same transaction: the write and its mark commit together or not at all."""
    session.flush()
    jobs = due.take_marks(session.info)
    if jobs:
        due.mark_due(session.connection(), session_team(session), jobs)


@event.listens_for(TenantSession, "after_transaction_end")
def _forget_marks(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        due.take_marks(session.info)


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


def tenant_key(session: Session, *key: Any) -> tuple[Any, ...]:
    """The primary key of a row keyed by the tenant and `key` (for `session.get`)."""
    return (session_team(session), *key)
