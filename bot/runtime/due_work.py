"""Claiming and running due work: one query across all workspaces, shared by schedulers.

`due_work` holds, per workspace and per-workspace job, when the job is next needed
(storage/due.py marks it due at once on writes; each run computes the next time with the
job's `next_due`). A tick asks once for the rows due now; an idle tick is that one
statement, however many workspaces there are.

Several schedulers (and `impactbot remind`) share the work: each claims a batch of due rows
with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (rows another claimer is taking are
skipped, not waited for) and marks them leased for `LEASE` of real time, so a scheduler
killed mid-run leaves rows that another takes over once the lease runs out. On SQLite the
claim runs under the database's single write lock (`BEGIN IMMEDIATE`), so two schedulers
are harmless. Side effects stay exactly-once through their own claims (bot/exactly_once.py);
these leases only spread the work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection
from concurrent.futures import wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, or_, select, update

from bot.exactly_once import REAL_TIME
from bot.runtime.executor import ContextExecutor
from bot.runtime.services import Services
from bot.tenancy.oauth import is_active_tenant
from storage import due
from storage.models import DueWork
from storage.tenancy import DEFAULT_TEAM, tenant

log = logging.getLogger(__name__)

LEASE_ENV = "IMPACTBOT_DUE_LEASE_SECONDS"
DEFAULT_LEASE = timedelta(seconds=120)
WORKERS = 8  # workspaces worked on at once by one scheduler
# Rows claimed at a time: no more than the workers can start on, so that rows one
# scheduler cannot work on yet stay free for the others.
BATCH = WORKERS
# A run whose job answers "due again now" is not taken again in the same tick.
MIN_GAP = timedelta(minutes=1)
RETRY = timedelta(minutes=5)  # after a run that raised

Run = Callable[[Services], None]
NextDue = Callable[[Services, datetime], "datetime | None"]
TABLE: Table = DueWork.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Claimed:
    id: int
    team_id: str
    job: str
    gen: int


def lease_length() -> timedelta:
    raw = os.environ.get(LEASE_ENV)
    return timedelta(seconds=float(raw)) if raw else DEFAULT_LEASE


def claim(svc: Services, jobs: Collection[str], now: datetime, limit: int = BATCH,
          lease: timedelta | None = None) -> list[Claimed]:
    """Up to `limit` rows of `jobs` due at `now` and not leased, leased to this caller."""
    real_now = REAL_TIME.now()
    pick = (select(TABLE.c.id)
            .where(TABLE.c.job.in_(sorted(jobs)), TABLE.c.due_at <= now,
                   or_(TABLE.c.lease_until.is_(None), TABLE.c.lease_until < real_now))
            .order_by(TABLE.c.due_at, TABLE.c.id).limit(limit))
    if svc.store.dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    with svc.store.engine.begin() as connection:
        rows = connection.execute(
            update(TABLE).where(TABLE.c.id.in_(pick.scalar_subquery()))
            .values(lease_until=real_now + (lease or lease_length()))
            .returning(TABLE.c.id, TABLE.c.team_id, TABLE.c.job, TABLE.c.gen)).all()
    return [Claimed(*row) for row in rows]


def finish(svc: Services, item: Claimed, next_due: datetime | None) -> None:
    """Give the row back with its next due time; if a write marked it due while the job
    ran (`gen` moved), leave it due now instead."""
    with svc.store.engine.begin() as connection:
        done = connection.execute(
            update(TABLE).where(TABLE.c.id == item.id, TABLE.c.gen == item.gen)
            .values(due_at=next_due, lease_until=None))
        if done.rowcount == 0:
            connection.execute(update(TABLE).where(TABLE.c.id == item.id)
                               .values(lease_until=None))


def run_one(svc: Services, item: Claimed, run: Run, next_due: NextDue, now: datetime) -> None:
    """One job in one workspace, then its next due time."""
    team = item.team_id or None
    if svc.settings.oauth and team is not None and not is_active_tenant(svc.store, team):
        finish(svc, item, None)  # uninstalled: nothing to do until it is installed again
        return
    following: datetime | None
    try:
        with tenant(team), due.running(item.team_id, item.job):
            run(svc)
            following = next_due(svc, now)
    except Exception:
        log.exception("job %s failed%s", item.job, f" for workspace {team}" if team else "")
        following = now + RETRY
    if following is not None:
        following = max(following, now + MIN_GAP) if following <= now else following
    finish(svc, item, following)


def run_due(svc: Services, jobs: dict[str, tuple[Run, NextDue]], *,
            workers: int = WORKERS) -> int:
    """Every job of `jobs` due now in any workspace, a batch at a time; workspaces in
    parallel, one workspace's jobs one after another in the order of `jobs` (as a tick
    always ran them). Answers how many (workspace, job) runs were made."""
    now = svc.clock.now()
    order = {job: n for n, job in enumerate(jobs)}
    runs = 0

    def one_workspace(items: list[Claimed]) -> None:
        for item in sorted(items, key=lambda i: order[i.job]):
            run_one(svc, item, *jobs[item.job], now)

    with ContextExecutor(max_workers=workers, thread_name_prefix="due-work") as pool:
        while True:
            claimed = claim(svc, jobs, now)
            if not claimed:
                return runs
            by_team: dict[str, list[Claimed]] = {}
            for item in claimed:
                by_team.setdefault(item.team_id, []).append(item)
            wait([pool.submit(one_workspace, items) for items in by_team.values()])
            runs += len(claimed)


def schedule_all(svc: Services, team_id: str | None, jobs: Collection[str]) -> None:
    """Make `jobs` due now in a workspace (at install, and for workspaces that existed
    before this table)."""
    with svc.store.engine.begin() as connection:
        due.mark_due(connection, team_id or DEFAULT_TEAM, jobs)
