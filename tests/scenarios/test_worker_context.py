"""Work done in other threads stays in the workspace that started it."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import Member, ReminderDelivery
from storage.tenancy import tenant
from tests.support.workspaces import TEAM_A, TEAM_B, setup_both

ROOT = Path(__file__).resolve().parents[2]
# Threads that may start without the current workspace, and why.
CONTEXT_FREE_THREADS = {
    "bot/runtime/executor.py": "the pool that carries the context (ContextExecutor)",
    "bot/runtime/background.py": "each job runs in a copy of its requester's context",
    "bot/runtime/scheduler.py": "APScheduler's pool: run_job enters each workspace itself",
    "bot/runtime/server.py": "the health check server: no database work per workspace",
}
STARTS_A_THREAD = re.compile(r"\b(ThreadPoolExecutor|ProcessPoolExecutor|Thread)\(|"
                             r"\bimport ThreadPoolExecutor|start_new_thread")


def test_reminder_claims_made_in_worker_threads_carry_their_workspace(multi: Sandbox) -> None:
    setup_both(multi)

    scheduler.run_due_now(multi.services, only={"reminder-tick"})

    with multi.store.engine.connect() as connection:
        claims = set(connection.execute(select(ReminderDelivery.__table__.c.team_id,
                                               ReminderDelivery.__table__.c.user_id)).all())
    members = {}
    for team in (TEAM_A, TEAM_B):
        with tenant(team), multi.store.session() as session:
            members[team] = set(session.scalars(select(Member.user_id)))
    assert {(TEAM_A, "U0AAA"), (TEAM_A, "U0CCC"), (TEAM_B, "U0BLIB")} <= claims
    assert all(user in members.get(team, set()) for team, user in claims), claims


def test_every_thread_the_app_starts_carries_the_workspace_or_says_why_not() -> None:
    starters = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("bot/emulator/"):
            continue  # the emulator is Slack, not the app
        if STARTS_A_THREAD.search(path.read_text()):
            starters.add(relative)
    assert starters <= set(CONTEXT_FREE_THREADS), starters - set(CONTEXT_FREE_THREADS)
