"""Scale-out: two real `impactbot serve` processes share one PostgreSQL and one Slack.

Worker A is a single gunicorn worker; worker B runs with WEB_CONCURRENCY=2, so three worker
processes in all answer requests that the test splits between A and B concurrently.
Nothing in memory is shared between them: only the database keeps wins and reports
exactly-once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.emulator import SlackDriver, SlackEmulator
from bot.initiative.importer import import_file
from bot.runtime.caller import load_initiative
from storage.db import Store
from storage.models import Report, SlackEvent, Win
from tests.conftest import CHANNELS, EXAMPLE, NOW, PEOPLE, _truncate_postgres
from tests.processes import BotProcess, free_port

SECRET = "scale-out-signing-secret"
WINS = "C0WINS"
GENERAL = "C0GENERAL"


@dataclass
class Cluster:
    emu: SlackEmulator
    a: SlackDriver
    b: SlackDriver
    store: Store

    def both(self, calls: list[Callable[[SlackDriver], Any]]) -> list[Any]:
        """Run calls concurrently, alternating A and B, all released at the same moment."""
        start = threading.Barrier(len(calls))
        drivers = [self.a if n % 2 == 0 else self.b for n in range(len(calls))]

        def run(n: int) -> Any:
            start.wait()
            return calls[n](drivers[n])

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(run, range(len(calls))))


def _start(env: dict[str, str], cwd: Path, workers: int) -> BotProcess:
    server = BotProcess(["serve"], {**env, "WEB_CONCURRENCY": str(workers)}, cwd)
    try:
        for _ in range(workers):  # every worker process says "worker <pid> ready"
            server.wait_for("ready")
    except BaseException:
        server.process.kill()
        raise
    return server


@pytest.fixture(scope="module")
def cluster(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    _truncate_postgres(postgres_url)
    store = Store(postgres_url)
    import_file(store, EXAMPLE, NOW)
    with SlackEmulator() as emu:
        for user_id, (name, tz) in PEOPLE.items():
            emu.add_user(user_id, real_name=name, name=name.split()[0].lower(), tz=tz)
        for channel_id, (name, private) in CHANNELS.items():
            emu.add_channel(channel_id, name=name, is_private=private, members=list(PEOPLE))
        env = {**os.environ, "SLACK_BOT_TOKEN": emu.bot_token, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": emu.api_url, "DATABASE_URL": postgres_url, "LOG_LEVEL": "INFO",
               "WEB_THREADS": "8"}
        for name in ("SLACK_APP_TOKEN", "INITIATIVE_FILE", "SLACK_CLIENT_ID",
                     "SLACK_CLIENT_SECRET"):
            env.pop(name, None)
        ports = free_port(), free_port()
        cwd = tmp_path_factory.mktemp("serve")
        processes: list[BotProcess] = []
        try:
            processes.append(_start({**env, "PORT": str(ports[0])}, cwd, workers=1))
            processes.append(_start({**env, "PORT": str(ports[1])}, cwd, workers=2))
            drivers = [SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, emu)
                       for port in ports]
            yield Cluster(emu, drivers[0], drivers[1], store)
        finally:
            for server in processes:
                server.stop()
            store.dispose()


def _count(store: Store, statement: Any) -> int:
    with store.session() as session:
        return int(session.scalar(statement) or 0)


def _wins_posts(emu: SlackEmulator) -> list[dict[str, Any]]:
    return emu.bot_messages(WINS)


def test_one_reaction_delivered_to_both_workers_at_once_posts_one_win(cluster: Cluster) -> None:
    emu = cluster.emu
    ts = emu.add_message(GENERAL, user="U0AAA", text="Both workers saw this win")

    replies = cluster.both([
        lambda d: d.reaction("U0BBB", GENERAL, ts, event_id="EvSCALEOUT1"),
        lambda d: d.reaction("U0BBB", GENERAL, ts, event_id="EvSCALEOUT1"),
    ])

    assert [r.status for r in replies] == [200, 200]
    assert emu.wait_for(lambda e: any("Both workers saw this win" in str(m)
                                      for m in _wins_posts(e)), timeout=10)
    assert _count(cluster.store, select(func.count()).select_from(SlackEvent)
                  .where(SlackEvent.event_id == "EvSCALEOUT1")) == 1
    assert sum("Both workers saw this win" in str(m) for m in _wins_posts(emu)) == 1


def test_many_peoples_reactions_split_across_workers_post_one_win(cluster: Cluster) -> None:
    emu = cluster.emu
    ts = emu.add_message(GENERAL, user="U0AAA", text="Everyone celebrated this one")
    reactors = ["U0BBB", "U0CCC", "U0DDD", "U0EEE", "U0BACKBONE1", "U0OUTSIDER"]
    # The win is due only when the last of the six is counted: every worker's count must
    # survive the others', and when the post appears every reaction has been handled.
    _set_threshold(cluster.store, len(reactors))
    try:
        # Each driver numbers its own event ids, so give every delivery its own.
        replies = cluster.both([lambda d, u=u: d.reaction(u, GENERAL, ts, event_id=f"EvMANY{u}")
                                for u in reactors])

        assert all(r.status == 200 for r in replies)
        assert emu.wait_for(lambda e: any("Everyone celebrated this one" in str(m)
                                          for m in _wins_posts(e)), timeout=10)
    finally:
        _set_threshold(cluster.store, 1)
    posts = [m for m in _wins_posts(emu) if "Everyone celebrated this one" in str(m)]
    assert len(posts) == 1
    with cluster.store.session() as session:
        (win,) = session.scalars(select(Win).where(Win.message_ts == ts))
        assert sorted(win.reactors) == sorted(reactors)


def _set_threshold(store: Store, threshold: int) -> None:
    with store.session() as session:
        initiative = load_initiative(session)
        assert initiative is not None
        initiative.win_threshold = threshold


def _report_commands() -> list[tuple[str, str]]:
    """(user, command text): every member of four partners, six periods each.

    U0AAA and U0BBB both belong to county-health, so their reports for the same period race
    each other: one becomes the current value, the other a correction kept in history.
    """
    # The served app runs on the real clock and refuses running and future periods: take
    # six well-closed months and weeks before today.
    today = datetime.now(UTC).date()
    months = []
    year, month = today.year, today.month
    for _ in range(7):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.insert(0, f"{year}-{month:02d}")
    months = months[:6]
    weeks = []
    for back in range(7, 1, -1):
        iso = (today - timedelta(weeks=back)).isocalendar()
        weeks.append(f"{iso.year}-W{iso.week:02d}")
    commands = []
    for n, (month, week) in enumerate(zip(months, weeks, strict=True)):
        commands += [
            ("U0AAA", f"report prenatal-visits {60 + n} for {month}"),
            ("U0BBB", f"report prenatal-visits {70 + n} for {month}"),
            ("U0CCC", f"report prenatal-visits {80 + n} for {month}"),
            ("U0DDD", f"report home-visits {100 + n} for {month}"),
            ("U0EEE", f"report diaper-bank {1000 + n} for {week}"),
        ]
    return commands


def test_reports_split_across_workers_are_all_stored_and_confirmed(cluster: Cluster) -> None:
    emu = cluster.emu
    commands = _report_commands()
    before = len(emu.response_posts)

    replies = cluster.both([lambda d, u=u, t=t: d.command(u, t) for u, t in commands])

    assert all(r.status == 200 for r in replies)
    assert emu.wait_for(lambda e: len(e.response_posts) - before >= len(commands), timeout=15)
    answers = [p.payload["text"] for p in emu.response_posts[before:]]
    assert len(answers) == len(commands)
    assert all(a.startswith("Recorded") for a in answers), answers
    history = _count(cluster.store, select(func.count()).select_from(Report))
    current = _count(cluster.store, select(func.count()).select_from(Report)
                     .where(Report.is_current.is_(True)))
    assert history == len(commands)  # 30 reports, none lost
    assert current == len(commands) - 6  # one of each county-health pair is a correction
    with cluster.store.session() as session:
        values = set(session.scalars(select(Report.value)))
    assert values == {float(t.split()[2]) for _, t in commands}


def test_scheduler_starts_in_multi_workspace_mode_without_a_bot_token(
        postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_url, "LOG_LEVEL": "INFO",
           "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "client-secret",
           "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "INITIATIVE_FILE"):
        env.pop(name, None)
    scheduler = BotProcess(["scheduler"], env, tmp_path)
    try:
        seen = scheduler.wait_for("scheduler started")
        assert "reminder-tick" in seen[-1]
    finally:
        scheduler.stop()
