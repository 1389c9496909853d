"""Issue 14, findings 2–4: acks are never late when Slack is slow, a win reaction is not lost
when the database fails after Slack has its 200, and a stored report is never followed by
"nothing was changed"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.emulator.sandbox import Sandbox
from bot.wins import deferred
from bot.wins import flow as wins
from handlers.router import DB_BUSY
from storage.models import DeferredEvent, Report
from tests.reliability.conftest import survived
from tests.support.adversary import told
from tests.support.fault_run import fault_run
from tests.support.wins import say, win_rows, wins_posts


@contextmanager
def connection_drops(sandbox: Sandbox, *, when: Any) -> Iterator[list[str]]:
    """Every statement for which `when(statement, state)` is true fails as a dropped
    connection does; `state` is a dict the predicate may keep notes in."""
    engine = sandbox.store.engine
    state: dict[str, bool] = {}
    dropped: list[str] = []

    def drop(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if when(statement.lstrip().upper(), state):
            dropped.append(statement)
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    def committed(_conn: Any) -> None:
        state["committed"] = state.get("inserted", False)

    event.listen(engine, "before_cursor_execute", drop)
    event.listen(engine, "commit", committed)
    try:
        yield dropped
    finally:
        event.remove(engine, "before_cursor_execute", drop)
        event.remove(engine, "commit", committed)


def test_acks_answer_at_once_while_every_web_api_call_takes_half_a_second(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    messages = [say(sandbox, "U0AAA", f"Win number {n}") for n in range(10)]
    emu.set_latency(0.5)
    # 10 win reactions, then commands, all while earlier work still waits on Slack: on 8
    # listener threads shared by acks and Web API work, the last acks took over 3 s.
    replies = [driver.reaction("U0BBB", "C0GENERAL", ts) for ts in messages]
    replies += [driver.command("U0CCC", "help"), driver.command("U0CCC", "measures"),
                driver.command("U0CCC", "report prenatal-visits 70")]
    acks = [r.elapsed for r in replies]
    assert [r.status for r in replies] == [200] * 13
    assert max(acks) < 1.0, acks
    sandbox.settle(timeout=60)
    emu.set_latency(0)

    assert any("Recorded 70%" in t for t in told(sandbox))
    assert len(win_rows(sandbox)) == 10


def test_a_win_reaction_survives_the_database_failing_after_slack_has_its_200(
        sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Saturday clinic served 30 families")

    with connection_drops(sandbox, when=lambda s, _: s.startswith("INSERT INTO WINS")) as d:
        reply = sandbox.driver.reaction("U0BBB", "C0GENERAL", ts, event_id="Ev0DROPPED")
        sandbox.settle()

    assert reply.status == 200 and d  # Slack was told "handled": it will not redeliver
    assert win_rows(sandbox) == [] and wins_posts(sandbox.emulator) == []
    # The reaction was kept with its event id: the wins tick counts it once the claim of
    # the failed attempt has run out.
    sandbox.clock.advance(deferred.REPLAY_LEASE + timedelta(seconds=1))
    wins.wins_tick(sandbox.services)

    (win,) = win_rows(sandbox)
    assert (win.status, win.reactors) == ("posted", ["U0BBB"])
    assert len(wins_posts(sandbox.emulator)) == 1
    with sandbox.store.session() as session:
        assert session.scalars(select(DeferredEvent.id)).all() == []
    survived({"connection dropped after the event's 200": 1})


def test_a_stored_report_is_confirmed_and_nothing_false_follows_when_a_later_step_fails(
        sandbox: Sandbox) -> None:
    driver = sandbox.driver

    def after_the_report(statement: str, state: dict[str, bool]) -> bool:
        # Once the report's transaction has committed, every statement fails (the Home
        # refresh that follows).
        if statement.startswith("INSERT INTO REPORTS"):
            state["inserted"] = True
        return state.get("committed", False)

    with connection_drops(sandbox, when=after_the_report) as dropped:
        driver.command("U0CCC", "report prenatal-visits 70")
        sandbox.settle()

    said = told(sandbox)
    assert dropped
    assert len(said) == 1 and said[0].startswith("Recorded 70%"), said
    assert DB_BUSY not in said
    with sandbox.store.session() as session:
        rows = session.execute(select(Report.value, Report.is_current)).all()
    assert [tuple(r) for r in rows] == [(70.0, True)]
    survived({"database failed after a report was stored": len(dropped)})


def test_tier1_history_limits_keep_reactions_for_later_instead_of_holding_a_worker(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    first = say(sandbox, "U0AAA", "Forty families enrolled")
    second = say(sandbox, "U0AAA", "New clinic hours start Monday")
    emu.tier1_history()  # 1 call a minute: the second reaction's read gets Retry-After 60

    driver.reaction("U0BBB", "C0GENERAL", first)
    driver.reaction("U0BBB", "C0GENERAL", second)
    driver.command("U0CCC", "help")
    sandbox.settle()  # nothing sleeps out the minute in a listener thread

    assert len(wins_posts(emu)) == 1
    assert told(sandbox)  # the help was answered
    with sandbox.store.session() as session:
        assert len(session.scalars(select(DeferredEvent.id)).all()) == 1  # kept, not lost
    emu.clear_faults()
    sandbox.clock.advance(timedelta(minutes=2))
    wins.wins_tick(sandbox.services)
    assert len(wins_posts(emu)) == 2
    survived({"Tier-1 history 429": 1})


def test_sending_the_same_report_again_adds_no_duplicate_history_row(
        sandbox: Sandbox) -> None:
    driver = sandbox.driver
    # A person whose answer was lost (or who was once told to try again) sends it again.
    driver.command("U0CCC", "report prenatal-visits 70 from the EHR")
    sandbox.settle()  # (the answers of two requests at once may come in either order)
    driver.command("U0CCC", "report prenatal-visits 70 from the EHR")
    sandbox.settle()

    first, second = told(sandbox)
    assert first.startswith("Recorded 70%") and second.startswith("Recorded 70%")
    assert "already sent this value, so the history is unchanged" in second
    with sandbox.store.session() as session:
        rows = session.execute(select(Report.value, Report.is_current)).all()
    assert [tuple(r) for r in rows] == [(70.0, True)]


def test_fault_run_connections_killed_every_fifth_of_a_second_lose_nothing(
        sandbox: Sandbox) -> None:
    if sandbox.store.dialect != "postgresql":
        pytest.skip("killing PostgreSQL connections")
    # The suite's short version; bench/faults.py runs 60 s with 120 reactions, 300 reports.
    figures = fault_run(sandbox, seconds=6, reactions=12, reports=30)

    assert figures.kills > 0
    assert (figures.wins_lost, figures.reports_lost, figures.reports_duplicated,
            figures.told_false) == (0, 0, 0, 0), figures.lines()
    assert figures.wins_posted == 12
    survived({"PostgreSQL connections killed (fault run)": figures.kills})
