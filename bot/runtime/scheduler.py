"""The scheduler: APScheduler 3.x with its SQLAlchemy job store, one process at a time.

Job functions live at module level and take only ids, so the job store can persist them.
Every job is a *tick* that works out what is due from the database "as of now"; a tick that
runs twice, late, or in two processes at once does each side effect once, because each side
effect claims a unique key in our tables before it acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.services import Services
from storage.tenancy import tenant

log = logging.getLogger(__name__)

TICK_MINUTES = 5
JOBS_TABLE = "apscheduler_jobs"

# The process-wide services the job functions use (set by `start`): job functions take
# only ids so that the persistent job store never pickles a connection or a client.
_services: Services | None = None


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], None]
    minutes: int = TICK_MINUTES


_JOBS: dict[str, JobSpec] = {}


def job(job_id: str, minutes: int = TICK_MINUTES) -> Callable[[Callable[[], None]],
                                                              Callable[[], None]]:
    """Declare a periodic tick. The function must be importable at module level."""

    def decorate(func: Callable[[], None]) -> Callable[[], None]:
        _JOBS[job_id] = JobSpec(job_id, func, minutes)
        return func

    return decorate


def services() -> Services:
    if _services is None:
        raise RuntimeError("the scheduler has not been started")
    return _services


def registered_jobs() -> list[JobSpec]:
    _load_job_modules()
    return sorted(_JOBS.values(), key=lambda spec: spec.id)


def _load_job_modules() -> None:
    import importlib

    for name in ("bot.reminders.tick", "bot.digest.posting", "bot.wins.flow", "bot.agenda.relay",
                 "bot.runtime.housekeeping"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def build(svc: Services, *, blocking: bool) -> BaseScheduler:
    global _services
    _services = svc
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_cls(
        jobstores={"default": SQLAlchemyJobStore(engine=svc.store.engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
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


def run_job(job_id: str) -> None:
    """What the job store persists: a tick by id, run once in every workspace tenant."""
    spec = _JOBS.get(job_id) or {s.id: s for s in registered_jobs()}.get(job_id)
    if spec is None:
        log.warning("no job %s in this version; ignoring it", job_id)
        return
    for team_id in tenants(services()):
        try:
            with tenant(team_id):
                spec.func()
        except Exception:
            log.exception("job %s failed%s", job_id, f" for workspace {team_id}" if team_id else "")


def tenants(svc: Services) -> list[str | None]:
    """Where scheduled work runs: the default schema, or each installed workspace's tenant."""
    if not svc.settings.oauth:
        return [None]
    from bot.tenancy.oauth import active_tenants

    return list(active_tenants(svc.store))


def run_due_now(svc: Services, only: Collection[str] | None = None) -> None:
    """Run every tick (or those named) once, as of the services' clock (the console's
    clock advance, tests)."""
    global _services
    _services = svc
    for spec in registered_jobs():
        if only is None or spec.id in only:
            run_job(spec.id)
