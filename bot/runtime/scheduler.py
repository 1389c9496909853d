"""The scheduler: APScheduler 3.x with its SQLAlchemy job store, one process at a time.

The jobs are a fixed table (`JOBS`): each names a tick, a function that receives the
services. Every tick works out what is due from the database "as of now"; a tick that runs
twice, late, or in two processes at once does each side effect once, because each side
effect claims a unique key in our tables before it acts.

The job store persists a job as a text reference to `run_job` plus the tick's id, never the
services (a connection or a client cannot be pickled). The services reach `run_job` through
the scheduler's own executor, which holds them and passes them in when a job runs: nothing
module-wide is set, so two schedulers (or a scheduler and the console) never share state.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.services import Services
from bot.tenancy.oauth import active_tenants
from storage.tenancy import tenant

log = logging.getLogger(__name__)

TICK_MINUTES = 5
JOBS_TABLE = "apscheduler_jobs"

Tick = Callable[[Services], None]


@dataclass(frozen=True)
class JobSpec:
    """A periodic tick: its id (the job store's key), what it runs, how often."""

    id: str
    # "module:function" (imported when the scheduler needs it, so that the runtime does not
    # import every capability), or the function itself.
    target: str | Tick
    minutes: int = TICK_MINUTES

    def load(self) -> Tick:
        if not isinstance(self.target, str):
            return self.target
        module, _, name = self.target.partition(":")
        func: Tick = getattr(importlib.import_module(module), name)
        return func


# Every scheduled job, in one place (DEVELOPERS.md's map lists them with their capability).
JOBS: tuple[JobSpec, ...] = (
    JobSpec("reminder-tick", "bot.reminders.tick:reminder_tick"),
    JobSpec("digest-tick", "bot.digest.posting:digest_tick"),
    JobSpec("wins", "bot.wins.flow:wins_tick"),
    JobSpec("backbone-relay", "bot.agenda.relay:relay_tick"),
    JobSpec("home-refresh", "bot.home.refresh:home_refresh_tick"),
    JobSpec("forget-old-events", "bot.runtime.housekeeping:forget_old_events", minutes=60),
)


def registered_jobs() -> list[JobSpec]:
    """The jobs whose code is installed, by id."""
    found = []
    for spec in JOBS:
        try:
            spec.load()
        except ModuleNotFoundError as exc:
            if not isinstance(spec.target, str) or exc.name != spec.target.partition(":")[0]:
                raise
            continue
        found.append(spec)
    return sorted(found, key=lambda spec: spec.id)


class _ServicesExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, handing this process's services to every job it runs."""

    def __init__(self, services: Services, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self.services = services

    def submit_job(self, job: Any, run_times: list[Any]) -> None:
        super().submit_job(_WithServices(job, self.services), run_times)


class _WithServices:
    """A stored job as APScheduler's runner sees it: with the services as a keyword.

    The stored job itself keeps only the tick's id, so the job store never sees them."""

    def __init__(self, job: Any, services: Services) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "services": services}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


def build(svc: Services, *, blocking: bool) -> BaseScheduler:
    """A scheduler that runs every job with `svc`."""
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    jobs = SQLAlchemyJobStore(engine=svc.store.engine, tablename=JOBS_TABLE)
    # APScheduler creates its table when it starts, without a lock: two schedulers starting
    # together would both try. Create it here, one process at a time.
    with svc.store.provisioning():
        jobs.jobs_t.create(svc.store.engine, checkfirst=True)
    scheduler = scheduler_cls(
        jobstores={"default": jobs},
        executors={"default": _ServicesExecutor(svc, max_workers=2)},
        job_defaults={
            # A tick computes everything due from the database, so a late or merged run
            # loses nothing: run missed ticks once (coalesce), however late (no grace
            # limit). One at a time per process; across processes our claims keep side
            # effects single (docs/reminders.md).
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
        },
        timezone="UTC",
    )
    started = svc.clock.now()
    for spec in registered_jobs():
        # Each tick runs once at start, then every few minutes: whatever fell due while
        # the bot was down (a reminder round, this week's digest) goes out straight away.
        scheduler.add_job(run_job, IntervalTrigger(minutes=spec.minutes), args=[spec.id],
                          id=spec.id, name=spec.id, replace_existing=True,
                          next_run_time=started)
    return scheduler


def run_job(job_id: str, services: Services | None = None) -> None:
    """A tick, once in every workspace tenant.

    What the job store persists, with the tick's id only (the same reference and arguments
    as before jobs received the services, so stored jobs keep working); the scheduler's
    executor passes the services when it runs one."""
    if services is None:
        raise RuntimeError(f"job {job_id} needs the services: run it through scheduler.build "
                           "or run_due_now")
    svc = services
    spec = next((s for s in registered_jobs() if s.id == job_id), None)
    if spec is None:
        log.warning("no job %s in this version; ignoring it", job_id)
        return
    func = spec.load()
    for team_id in tenants(svc):
        try:
            with tenant(team_id):
                func(svc)
        except Exception:
            log.exception("job %s failed%s", job_id, f" for workspace {team_id}" if team_id else "")


def tenants(svc: Services) -> list[str | None]:
    """Where scheduled work runs: the default schema, or each installed workspace's tenant."""
    if not svc.settings.oauth:
        return [None]
    return list(active_tenants(svc.store))


def run_due_now(svc: Services, only: Collection[str] | None = None) -> None:
    """Run every tick (or those named) once, as of the services' clock (the console's
    clock advance, tests)."""
    for spec in registered_jobs():
        if only is None or spec.id in only:
            run_job(spec.id, services=svc)
