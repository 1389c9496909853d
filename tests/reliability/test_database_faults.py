"""The database is briefly locked, unreachable or restarted: the bot says "try again" (or
lets Slack retry an event), never writes half a report, and carries on once it is back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import storage.db
from bot.emulator.sandbox import Sandbox
from handlers.router import DB_BUSY
from storage.db import Store
from storage.models import Report, SlackEvent, Win
from tests.reliability.conftest import survived
from tests.support.adversary import errors_logged, told

REPORT_FORM = {"measure": {"measure": {"type": "static_select",
                                       "selected_option": {"value": "prenatal-visits"}}},
               "value": {"value": {"type": "plain_text_input", "value": "71"}}}


def _reports(sandbox: Sandbox) -> list[tuple[str, float, bool]]:
    with sandbox.store.session() as session:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(Report.reported_by, Report.value, Report.is_current).order_by(Report.id))]


@contextmanager
def sqlite_write_lock(sandbox: Sandbox) -> Iterator[None]:
    """Another process holds SQLite's write lock (as a long import or a backup would)."""
    path = make_url(sandbox.store.url).database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_sqlite_busy_answers_try_again_writes_nothing_and_lets_slack_retry_events(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    if sandbox.store.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    # Wait 0.2 s for the lock instead of 10 s, so the test does not sit out the timeout.
    normal_wait = storage.db.SQLITE_BUSY_TIMEOUT_MS
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    sandbox.store.engine.dispose()
    emu, driver = sandbox.emulator, sandbox.driver
    driver.command("U0AAA", "report")
    sandbox.settle()
    form = driver.last_view()
    celebrated = emu.add_message("C0GENERAL", user="U0CCC", text="Saturday clinic is open")

    with sqlite_write_lock(sandbox):
        slash = driver.command("U0CCC", "report prenatal-visits 70")
        modal = driver.view_submission("U0AAA", form, REPORT_FORM)
        reaction = driver.reaction("U0DDD", "C0GENERAL", celebrated, event_id="Ev0LOCKED")
        sandbox.settle()
    # The lock is released: back to the normal wait, so that on a busy machine the work
    # that follows is not mistaken for work refused by the lock.
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", normal_wait)
    sandbox.store.engine.dispose()
    busy = told(sandbox)

    assert slash.status == 200 and busy[-1] == DB_BUSY
    assert modal.json == {"response_action": "errors", "errors": {"value": DB_BUSY}}
    assert reaction.status >= 500  # so Slack delivers it again
    assert _reports(sandbox) == []
    assert errors_logged([r for r in caplog.records if r.name != "bot.runtime.app"]) == []

    # The lock is gone: Slack's retry of the event and the person's second try both work.
    retried = driver.reaction("U0DDD", "C0GENERAL", celebrated, event_id="Ev0LOCKED",
                              retry_num=1)
    driver.command("U0CCC", "report prenatal-visits 70")
    sandbox.settle()

    assert retried.status == 200
    assert _reports(sandbox) == [("U0CCC", 70.0, True)]
    assert len(emu.bot_messages("C0WINS")) == 1
    with sandbox.store.session() as session:
        assert session.scalars(select(SlackEvent.event_id)).all() == ["Ev0LOCKED"]
        assert session.scalars(select(Win.status)).all() == ["posted"]
    survived({"SQLite locked": 3})


def test_postgresql_unreachable_answers_try_again_then_works_when_it_returns(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    if sandbox.store.dialect != "postgresql":
        pytest.skip("a PostgreSQL server going away")
    driver, real = sandbox.driver, sandbox.services.store
    driver.command("U0AAA", "report")
    sandbox.settle()
    form = driver.last_view()
    # The same database behind a port where nothing listens: the server is down.
    gone = Store(make_url(real.url).set(port=1).render_as_string(hide_password=False),
                 connect_args={"connect_timeout": 2})
    sandbox.services.store = gone
    try:
        slash = driver.command("U0CCC", "report prenatal-visits 70")
        modal = driver.view_submission("U0AAA", form, REPORT_FORM)
        sandbox.settle()
    finally:
        sandbox.services.store = real
        gone.dispose()

    assert slash.status == 200 and told(sandbox)[-1] == DB_BUSY
    assert modal.json == {"response_action": "errors", "errors": {"value": DB_BUSY}}
    assert _reports(sandbox) == []
    assert errors_logged(caplog.records) == []

    driver.command("U0CCC", "report prenatal-visits 70")
    sandbox.settle()
    assert _reports(sandbox) == [("U0CCC", 70.0, True)]
    survived({"PostgreSQL unreachable": 2})


def test_postgresql_restart_drops_every_connection_and_the_next_request_still_works(
        sandbox: Sandbox) -> None:
    if sandbox.store.dialect != "postgresql":
        pytest.skip("PostgreSQL connections")
    driver = sandbox.driver
    driver.command("U0CCC", "report prenatal-visits 70")  # the pool now holds connections
    sandbox.settle()
    # What a restart does to us: every server process serving this database is gone.
    # (Only our own database: other suites share the server.)
    admin = create_engine(sandbox.store.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()

    driver.command("U0CCC", "report prenatal-visits 72")
    sandbox.settle()

    assert killed and killed >= 1
    assert told(sandbox)[-1].startswith("Recorded 72%")
    assert _reports(sandbox) == [("U0CCC", 70.0, False), ("U0CCC", 72.0, True)]
    survived({"PostgreSQL connections killed": int(killed)})


def test_a_correction_interrupted_between_its_statements_leaves_the_old_value_current(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    driver = sandbox.driver
    driver.command("U0CCC", "report prenatal-visits 70")
    sandbox.settle()
    engine = sandbox.store.engine

    def die_on_insert(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The old row has just been marked superseded; the connection dies before the new
        # row is written.
        if statement.lstrip().upper().startswith("INSERT INTO REPORTS"):
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", die_on_insert)
    try:
        driver.command("U0CCC", "report prenatal-visits 72")
        sandbox.settle()
    finally:
        event.remove(engine, "before_cursor_execute", die_on_insert)

    assert told(sandbox)[-1] == DB_BUSY
    assert _reports(sandbox) == [("U0CCC", 70.0, True)]  # not superseded by nothing
    survived({"connection lost mid-transaction": 1})


def test_a_reading_command_answers_while_another_process_holds_sqlites_write_lock(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    """`/impact measures` only reads: it neither waits for SQLite's write lock nor holds
    it (Store.read_session), so a long import or a backup holding the lock does not turn
    it into "the database is busy"."""
    if sandbox.store.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    before = len(sandbox.emulator.response_posts)

    with sqlite_write_lock(sandbox):
        reply = sandbox.driver.command("U0AAA", "measures")
        sandbox.settle()

    assert reply.status == 200
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1
    assert DB_BUSY not in json.dumps(posts[0].payload)
    assert "prenatal" in json.dumps(posts[0].payload).lower()
    assert errors_logged(caplog.records) == []
