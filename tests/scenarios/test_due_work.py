"""Due work: the scheduler asks once what is due across all workspaces, and runs only that.

An idle tick costs the same at 1 workspace as at 300; a write makes the job that watches it
due at once; reminders still go out at their time (checked hour by hour over five weeks
against what a tick every hour would send); two claimers never take the same row, and a
dead claimer's rows are taken over when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from bot.emulator.sandbox import Sandbox
from bot.reminders.tick import run_tick
from bot.runtime import due_work, scheduler
from bot.tenancy.oauth import mark_uninstalled
from storage import due
from storage.models import DueWork, ReminderDelivery
from storage.tenancy import tenant
from tests.support.many_workspaces import provision
from tests.support.world import NOW


@contextmanager
def statements(sandbox: Sandbox) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):  # SQLite's own
            seen.append(statement)

    event.listen(sandbox.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(sandbox.store.engine, "before_cursor_execute", count)


def due_rows(sandbox: Sandbox, job: str) -> dict[str, datetime | None]:
    with sandbox.store.engine.connect() as connection:
        table = due_work.TABLE
        return {team: due_at for team, due_at in connection.execute(
            select(table.c.team_id, table.c.due_at).where(table.c.job == job))}


def test_an_idle_tick_is_one_statement_however_many_workspaces(multi: Sandbox) -> None:
    later = NOW + timedelta(days=1)
    provision(multi.store, 1, 2, NOW, due_at=later)
    with statements(multi) as one:
        scheduler.run_due_now(multi.services, only=set(due.WATCHES))
    provision(multi.store, 299, 2, NOW, start=1, due_at=later)
    with statements(multi) as many:
        scheduler.run_due_now(multi.services, only=set(due.WATCHES))

    assert len(one) == len(many) == 1
    assert "due_work" in many[0]
    assert multi.emulator.calls_to("chat.postMessage") == []


def test_a_report_makes_the_reminder_job_due_and_a_run_sets_its_next_time(
        sandbox: Sandbox) -> None:
    scheduler.run_due_now(sandbox.services)  # the November round goes out
    sent = len(sandbox.emulator.calls_to("chat.postMessage"))
    next_time = due_rows(sandbox, "reminder-tick")[""]
    assert sent > 0 and next_time is not None and next_time > NOW

    with statements(sandbox) as idle:
        scheduler.run_due_now(sandbox.services, only={"reminder-tick"})
    assert len(idle) == 1  # nothing due: nothing visited

    reply = sandbox.driver.command("U0AAA", "report home-visits 12")
    sandbox.settle()
    assert reply.status == 200
    assert due_rows(sandbox, "reminder-tick")[""] == due.ASAP
    scheduler.run_due_now(sandbox.services, only={"reminder-tick"})
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == sent  # no one owes more yet
    assert due_rows(sandbox, "reminder-tick")[""] not in (None, due.ASAP)


def test_reminders_go_out_when_due_hour_by_hour_for_five_weeks(sandbox: Sandbox) -> None:
    """Whatever a tick would send at an hour (a dry run then) has been sent by the next
    hour's due-work tick: it never sleeps past a reminder or a nudge."""
    runs = 0
    owed: set[str] = set()
    start = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)
    for hour in range(24 * 35):
        now = start + timedelta(hours=hour)
        sandbox.clock.set(now)
        runs += scheduler.run_workspace_jobs(
            sandbox.services, [s for s in scheduler.registered_jobs() if s.id == "reminder-tick"])
        with sandbox.store.session() as session:
            sent = set(session.scalars(select(ReminderDelivery.dedupe_key).where(
                ReminderDelivery.sent_at.is_not(None))))
        assert owed <= sent, f"due by {now - timedelta(hours=1)}, not sent: {owed - sent}"
        owed = {dm.key for dm in run_tick(sandbox.services, None, now, dry_run=True).planned}
    assert len({c.params["channel"] for c in sandbox.emulator.calls_to("chat.postMessage")}) >= 5
    assert len(sent) >= 10  # reminders and nudges of several rounds went out
    assert runs < 24 * 35 / 10  # and the workspace was visited only when something was due


def test_two_claimers_never_take_the_same_row_and_a_dead_ones_lease_runs_out(
        multi: Sandbox) -> None:
    teams = provision(multi.store, 4, 1, NOW, jobs=("reminder-tick",))
    jobs = ["reminder-tick"]

    first = due_work.claim(multi.services, jobs, NOW, limit=2)
    second = due_work.claim(multi.services, jobs, NOW, limit=5)
    assert len(first) == 2 and len(second) == 2
    assert {c.team_id for c in first} | {c.team_id for c in second} == set(teams)
    assert due_work.claim(multi.services, jobs, NOW) == []  # all leased

    # A claimer that died: its lease (here already over) lets another take the row.
    dead = due_work.claim(multi.services, jobs, NOW + timedelta(days=1),
                          lease=timedelta(seconds=-1))
    assert dead == []  # leased rows stay leased until their lease ends
    for item in first:
        due_work.finish(multi.services, item, NOW + timedelta(hours=1))
    taken = due_work.claim(multi.services, jobs, NOW + timedelta(hours=1), limit=5,
                           lease=timedelta(seconds=-1))
    assert {c.team_id for c in taken} == {c.team_id for c in first}
    again = due_work.claim(multi.services, jobs, NOW + timedelta(hours=1), limit=5)
    assert {c.team_id for c in again} == {c.team_id for c in first}


def test_a_write_during_a_run_keeps_the_job_due(multi: Sandbox) -> None:
    (team,) = provision(multi.store, 1, 1, NOW, jobs=("wins",))
    (item,) = due_work.claim(multi.services, ["wins"], NOW)
    with tenant(team), multi.store.session() as session:  # a request marks it meanwhile
        due.mark_due(session.connection(), team, ["wins"])
    due_work.finish(multi.services, item, None)
    assert due_rows(multi, "wins") == {team: due.ASAP}


def test_an_uninstalled_workspace_is_not_run_again(multi: Sandbox) -> None:
    (gone,) = provision(multi.store, 1, 3, NOW, emulator=multi.emulator)
    mark_uninstalled(multi.store, gone, NOW)
    scheduler.run_due_now(multi.services, only={"reminder-tick"})

    assert multi.emulator.calls_to("chat.postMessage") == []
    assert due_rows(multi, "reminder-tick") == {gone: None}


def test_every_workspace_job_watches_tables_and_has_a_next_due() -> None:
    per_workspace = {s.id for s in scheduler.registered_jobs() if s.per_workspace}
    assert per_workspace == set(due.WATCHES)
    with_models = {table for tables in due.WATCHES.values() for table in tables}
    assert with_models <= set(DueWork.metadata.tables)
