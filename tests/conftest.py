"""Fixtures: every test runs against SQLite and PostgreSQL, through the Slack boundary.

The constants and helpers the fixtures use live in tests/support/ (import them from there);
this module holds only the fixtures shared by every suite.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.emulator.sandbox import Sandbox
from bot.runtime.settings import Settings
from storage.db import Store
from tests.support.databases import IN_CI, PG_URL, postgres_problem, truncate_postgres
from tests.support.workspaces import TEAM_A, TEAM_B
from tests.support.world import NOW, import_example, populate_world

# The run-wide tallies (faults survived, fuzz cases), added up across xdist workers.
pytest_plugins = ["tests.support.tallies"]


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
    problem = postgres_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {make_url(PG_URL).render_as_string()} is unreachable "
                        f"in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem}); the PostgreSQL half is skipped")
    store = Store(PG_URL)
    store.upgrade()
    store.dispose()
    return PG_URL


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
        truncate_postgres(url)
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.dispose()


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
    import_example(bare_sandbox.store)
    return bare_sandbox


@pytest.fixture
def multi(database_url: str) -> Iterator[Sandbox]:
    """The app in multi-workspace mode (OAuth), with two teams that can install it."""
    with Sandbox(database_url, now=NOW, upgrade=True,
                 settings=Settings(client_id="set-by-sandbox", client_secret="x")) as sandbox:
        populate_world(sandbox)
        for user, name in (("U0BADMIN", "Bo Admin"), ("U0BLIB", "Li Library")):
            sandbox.emulator.add_user(user, real_name=name)
        sandbox.emulator.add_team(TEAM_A, "Healthy Starts")
        sandbox.emulator.add_team(TEAM_B, "Ready for School")
        yield sandbox
        sandbox.settle()
        assert sandbox.emulator.invalid_payloads == []


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """The CLI, called in-process, on this test's database: no stray .env, token or file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "INITIATIVE_FILE", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    return database_url
