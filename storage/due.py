"""Due work: which scheduled job a write makes due, marked in the same transaction.

Every scheduled job that works per workspace keeps one `due_work` row per workspace saying
when it next needs to run (bot/runtime/due_work.py computes that time after each run). A
write can bring that time forward (a new report changes who is owed a nudge, a kept
reaction waits to be replayed, a new digest time), so every transaction that writes a
table a job *watches* sets that job's row to "due now" for its workspace when it commits:
one statement per transaction, whatever it wrote, in the transaction's own workspace. The
mark is made by the session (`TenantSession` in storage/db.py), not by the callers, so no
code path can forget it.

A job's own run does not mark its own row (its next due time is computed after it), but it
does mark the other jobs whose tables it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import DueWork

# Due at once: earlier than any clock (tests and the console run on their own clocks).
ASAP = datetime(1970, 1, 1, tzinfo=UTC)

# The tables each per-workspace job watches: a committed write to one makes it due now.
# The job ids are bot/runtime/scheduler.py's (a test checks the two agree).
WATCHES: dict[str, frozenset[str]] = {
    "reminder-tick": frozenset({
        "initiative", "partners", "members", "measures", "measure_partners", "reports",
        "skips", "pauses", "slack_users", "reminder_deliveries", "parked_destinations"}),
    "digest-tick": frozenset({"initiative", "digests", "parked_destinations"}),
    "wins": frozenset({"wins", "deferred_events", "parked_destinations"}),
    # The relay also tells the backbone about newly parked channels and people.
    "backbone-relay": frozenset({"initiative", "voices", "commitments",
                                 "parked_destinations"}),
    "home-refresh": frozenset({"home_viewers"}),
    "asks": frozenset({"question_dms"}),  # a question's DMs not sent yet
    # Intros: the schedule (initiative), who may be paired, intros to send or check back on.
    "connect": frozenset({"initiative", "partners", "members", "measure_partners",
                          "connect_optouts", "intros"}),
    # Holidays and working days live on the initiative and partners; zones on slack_users.
    "action-reminders": frozenset({"initiative", "partners", "members", "actions",
                                   "action_deliveries", "slack_users"}),
    # Meetings live in the initiative's calendar; members and their holidays on partners.
    "meetings": frozenset({"initiative", "partners", "members", "meeting_items",
                           "meeting_posts", "slack_users"}),
}

_JOBS_OF_TABLE: dict[str, tuple[str, ...]] = {}
for _job, _tables in WATCHES.items():
    for _table in _tables:
        _JOBS_OF_TABLE[_table] = tuple(sorted({*_JOBS_OF_TABLE.get(_table, ()), _job}))

MARKS_KEY = "impactbot_due_marks"

# (team, job) pairs whose run is under way in this context: their own writes don't mark them.
_running: ContextVar[frozenset[tuple[str, str]]] = ContextVar(
    "impactbot_running_jobs", default=frozenset())


@contextmanager
def running(team_id: str, job: str) -> Iterator[None]:
    token = _running.set(_running.get() | {(team_id, job)})
    try:
        yield
    finally:
        _running.reset(token)


def jobs_watching(table: str) -> tuple[str, ...]:
    return _JOBS_OF_TABLE.get(table, ())


def note_write(info: dict[str, Any], table: str) -> None:
    """Remember, for the session whose `info` this is, that it wrote `table`."""
    jobs = _JOBS_OF_TABLE.get(table)
    if jobs:
        info.setdefault(MARKS_KEY, set()).update(jobs)


def take_marks(info: dict[str, Any]) -> set[str]:
    marks: set[str] = info.pop(MARKS_KEY, set())
    return marks


def mark_due(connection: Connection, team_id: str, jobs: Iterable[str]) -> None:
    """Make `jobs` due now in `team_id` (one statement; rows in a fixed order, so two
    transactions marking the same rows never wait on each other in a cycle)."""
    skip = _running.get()
    wanted = sorted(job for job in set(jobs) if (team_id, job) not in skip)
    if not wanted:
        return
    table: Table = DueWork.__table__  # type: ignore[assignment]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table).values(
        [{"team_id": team_id, "job": job, "due_at": ASAP, "gen": 1} for job in wanted])
    connection.execute(insert.on_conflict_do_update(
        index_elements=["team_id", "job"],
        set_={"due_at": ASAP, "gen": table.c.gen + 1}))
