"""Fixtures: every test runs against SQLite and PostgreSQL, through the Slack boundary."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.emulator.sandbox import Sandbox
from bot.initiative.importer import import_file
from storage.db import Store
from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "initiative.yml"
PG_URL = os.environ.get("IMPACTBOT_TEST_POSTGRES",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# A Tuesday afternoon in Chicago, after the November reminders went out.
NOW = datetime(2026, 11, 10, 21, 0, tzinfo=UTC)

# People in the example initiative, as the emulator knows them.
ADMIN = "U0BACKBONE1"
PEOPLE = {
    "U0BACKBONE1": ("Bea Backbone", "America/Chicago"),
    "U0AAA": ("Ana Health", "America/Chicago"),
    "U0BBB": ("Ben Health", "Asia/Tokyo"),
    "U0CCC": ("Cy Clinic", "America/Los_Angeles"),
    "U0DDD": ("Dee Family", "Europe/Berlin"),
    "U0EEE": ("Eve United", "America/Chicago"),
    "U0OUTSIDER": ("Otto Outsider", "America/New_York"),
}
CHANNELS = {
    "C0BACKBONE": ("backbone", False),
    "C0WINS": ("wins", False),
    "C0GENERAL": ("general", False),
    "G0PRIVATE": ("partners-private", True),
}


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _postgres_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {make_url(PG_URL).render_as_string()} is unreachable "
                        f"in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem}); the PostgreSQL half is skipped")
    store = Store(PG_URL)
    store.upgrade()
    store.dispose()
    return PG_URL


OAUTH_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def _truncate_postgres(url: str) -> None:
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a fresh SQLite file, or a truncated PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / f"impactbot-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate_postgres(url)
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.dispose()


def populate_world(sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    for user_id, (name, tz) in PEOPLE.items():
        emu.add_user(user_id, real_name=name, name=name.split()[0].lower(), tz=tz)
    for channel_id, (name, private) in CHANNELS.items():
        emu.add_channel(channel_id, name=name, is_private=private,
                        members=list(PEOPLE))


@pytest.fixture
def bare_sandbox(database_url: str) -> Iterator[Sandbox]:
    """The app against the emulator, with people and channels but no initiative imported."""
    with Sandbox(database_url, now=NOW, upgrade=False) as sandbox:
        populate_world(sandbox)
        yield sandbox
        # Whatever a test did, nothing it made the app send may be invalid Block Kit.
        sandbox.settle()
        assert sandbox.emulator.invalid_payloads == [], sandbox.emulator.invalid_payloads


@pytest.fixture
def sandbox(bare_sandbox: Sandbox) -> Sandbox:
    """The app with examples/initiative.yml imported."""
    import_file(bare_sandbox.store, EXAMPLE, NOW)
    return bare_sandbox
