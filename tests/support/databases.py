"""The test databases: which PostgreSQL to use, and how to empty it between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.models import Base

SUITE_PG_URL = os.environ.get("IMPACTBOT_TEST_POSTGRES",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Under pytest-xdist each worker empties its tables between tests, so each has a database of
# its own, named after the suite's ("test_gw0", …), created on first use.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
PG_URL = (make_url(SUITE_PG_URL).set(database=f"{make_url(SUITE_PG_URL).database}_{WORKER}")
          .render_as_string(hide_password=False) if WORKER else SUITE_PG_URL)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

OAUTH_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be reached, or None when it can."""
    try:
        if WORKER:
            _create_worker_database()
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _create_worker_database() -> None:
    name = make_url(PG_URL).database
    admin = create_engine(SUITE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def truncate_postgres(url: str) -> None:
    """Empty every table of the default schema and drop every workspace tenant schema."""
    engine = create_engine(url)
    names = [t.name for t in Base.metadata.sorted_tables] + list(OAUTH_TABLES)
    tables = ", ".join(f'"{name}"' for name in names)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        tenants = connection.execute(text(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ws\\_%'")).scalars().all()
        for schema in tenants:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@contextmanager
def empty_database_url(backend: str, tmp_path: Path, tag: str) -> Iterator[str]:
    """The URL of an empty database of its own: a SQLite file in `tmp_path`, or a scratch
    PostgreSQL database (named after the suite's, with `tag`) dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'impactbot.db'}"
        return
    problem = postgres_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem})")
    scratch = f"{make_url(PG_URL).database}_{tag}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield make_url(PG_URL).set(database=scratch).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))
        admin.dispose()
