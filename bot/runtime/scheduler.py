"""The scheduler: APScheduler 3.x, its jobs in memory in each process; any number of processes.

The jobs are a fixed table (`JOBS`): each names a tick, a function that receives the
services. A per-workspace job also names its `next_due` function: the scheduler does not
visit workspaces, it runs the one `due-work` tick, which asks `due_work` for the
(workspace, job) pairs due now across all workspaces and runs just those
(bot/runtime/due_work.py); global jobs run once per interval. Every tick works out what is
due from the database "as of now"; a tick that runs twice, late, or in two processes at
once does each side effect once, because each side effect claims a unique key in our
tables before it acts.

A job is `run_job` with the tick's id, never the services: they reach `run_job` through the
scheduler's own executor, which holds them and passes them in when a job runs; nothing
module-wide is set, so two schedulers (or a scheduler and the console) never share state.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import due_work
from bot.runtime.services import Services

log = logging.getLogger(__name__)

# How often the scheduler asks what is due (an idle ask is one indexed query); seconds in
# IMPACTBOT_TICK_SECONDS override it (tests and benchmarks of many schedulers).
TICK_MINUTES = 1
TICK_SECONDS_ENV = "IMPACTBOT_TICK_SECONDS"
DUE_WORK = "due-work"

Tick = Callable[[Services], None]
NextDue = Callable[[Services, datetime], "datetime | None"]


def _load(target: str | Callable[..., Any]) -> Any:
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class JobSpec:
    """A periodic tick: its id (the scheduler's job id), what it runs, how often."""

    id: str
    # "module:function" (imported when the scheduler needs it, so that the runtime does not
    # import every capability), or the function itself.
    target: str | Tick
    # Per-workspace jobs: when the workspace next needs the job, asked after each run
    # (None: not until a write marks it due, storage/due.py). Global jobs have none and
    # run every `minutes`.
    next_due: str | NextDue | None = None
    minutes: int = TICK_MINUTES

    def load(self) -> Tick:
        func: Tick = _load(self.target)
        return func

    def load_next_due(self) -> NextDue:
        assert self.next_due is not None
        func: NextDue = _load(self.next_due)
        return func

    @property
    def per_workspace(self) -> bool:
        return self.next_due is not None


# Every scheduled job, in one place (DEVELOPERS.md's map lists them with their capability).
# The per-workspace ids are storage/due.py's WATCHES keys (a test checks they agree).
JOBS: tuple[JobSpec, ...] = (
    JobSpec("reminder-tick", "bot.reminders.tick:reminder_tick",
            "bot.reminders.next_due:reminders_next_due"),
    JobSpec("digest-tick", "bot.digest.posting:digest_tick",
            "bot.digest.next_due:digest_next_due"),
    JobSpec("wins", "bot.wins.flow:wins_tick", "bot.wins.next_due:wins_next_due"),
    JobSpec("backbone-relay", "bot.agenda.relay:relay_tick",
            "bot.agenda.relay_due:relay_next_due"),
    JobSpec("action-reminders", "bot.actions.remind:action_tick",
            "bot.actions.remind:actions_next_due"),
    JobSpec("meetings", "bot.meetings.cycle:meetings_tick",
            "bot.meetings.cycle:meetings_next_due"),
    JobSpec("home-refresh", "bot.home.refresh:home_refresh_tick",
            "bot.home.refresh:home_refresh_next_due"),
    JobSpec("asks", "bot.asks.questions:asks_tick", "bot.asks.questions:asks_next_due"),
    JobSpec("connect", "bot.connect.intros:connect_tick",
            "bot.connect.intros:connect_next_due"),
    # Also forgets the public voice form's hour-old rate-limit hashes and the data-quality
    # guard's day-old questions (pending_reports): every 5 minutes.
    JobSpec("forget-old-events", "bot.runtime.housekeeping:forget_old_events", minutes=5),
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
    """A job as APScheduler's runner sees it: with the services as a keyword.

    The job itself keeps only the tick's id."""

    def __init__(self, job: Any, services: Services) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "services": services}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


def scheduled_ticks() -> list[tuple[str, float]]:
    """What APScheduler runs: the due-work tick, and each global job, with its interval in
    seconds."""
    jobs = registered_jobs()
    every = float(os.environ.get(TICK_SECONDS_ENV) or TICK_MINUTES * 60)
    ticks = [(DUE_WORK, every)] if any(spec.per_workspace for spec in jobs) else []
    return ticks + [(spec.id, spec.minutes * 60.0) for spec in jobs if not spec.per_workspace]


def build(svc: Services, *, blocking: bool) -> BaseScheduler:
    """A scheduler that runs every job with `svc`.

    Its jobs live in memory, each process its own: APScheduler 3 does not support one job
    store shared by several scheduler processes (its FAQ: "You can't"; sharing one made a
    second scheduler miss its ticks). Nothing is lost by it: each tick runs at start and
    then on its interval, and what is due is always read from the database (`due_work`,
    claimed with SKIP LOCKED), never from the job store."""
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    ticks = scheduled_ticks()
    scheduler = scheduler_cls(
        executors={"default": _ServicesExecutor(svc, max_workers=2)},
        job_defaults={
            # A tick computes everything due from the database, so a late or merged run
            # loses nothing: run missed ticks once (coalesce), however late (no grace
            # limit). One at a time per process; across processes the due-work claims
            # spread the work and our own claims keep side effects single
            # (docs/reminders.md).
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
        },
        timezone="UTC",
    )
    started = svc.clock.now()
    for tick, seconds in ticks:
        # Each tick runs once at start, then every few minutes: whatever fell due while
        # the bot was down (a reminder round, this week's digest) goes out straight away.
        scheduler.add_job(run_job, IntervalTrigger(seconds=seconds), args=[tick],
                          id=tick, name=tick, replace_existing=True, next_run_time=started)
    return scheduler


def run_job(job_id: str, services: Services | None = None) -> None:
    """A tick: the due-work tick (every per-workspace job due now, in its workspace), or a
    global job.

    What the scheduler runs, with the tick's id only; its executor passes the services."""
    if services is None:
        raise RuntimeError(f"job {job_id} needs the services: run it through scheduler.build "
                           "or run_due_now")
    specs = {spec.id: spec for spec in registered_jobs()}
    if job_id == DUE_WORK:
        run_workspace_jobs(services, [s for s in specs.values() if s.per_workspace])
        return
    spec = specs.get(job_id)
    if spec is None:
        log.warning("no job %s in this version; ignoring it", job_id)
        return
    if spec.per_workspace:  # named directly (a console or test): its workspaces' due work
        run_workspace_jobs(services, [spec])
        return
    try:
        spec.load()(services)
    except Exception:
        log.exception("job %s failed", job_id)


def run_workspace_jobs(services: Services, specs: Collection[JobSpec]) -> int:
    """Each of `specs` in every workspace where it is due now; answers how many runs."""
    if not specs:
        return 0
    wanted = {spec.id for spec in specs}
    in_order = [spec for spec in JOBS if spec.id in wanted] + [
        spec for spec in specs if spec.id not in {s.id for s in JOBS}]
    return due_work.run_due(services, {spec.id: (spec.load(), spec.load_next_due())
                                       for spec in in_order})


def run_due_now(svc: Services, only: Collection[str] | None = None) -> None:
    """Run what is due now (all jobs, or those named) once, as of the services' clock
    (the console's clock advance, tests)."""
    specs = [spec for spec in registered_jobs() if only is None or spec.id in only]
    run_workspace_jobs(svc, [spec for spec in specs if spec.per_workspace])
    for spec in specs:
        if not spec.per_workspace:
            run_job(spec.id, services=svc)
