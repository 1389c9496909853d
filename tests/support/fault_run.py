"""The fault run (issue 14): PostgreSQL connections killed every 0.2 s while win reactions
and reports arrive. Shared by tests/reliability (a short run) and bench/faults.py (60 s).

Slack's side is played honestly: an event answered with an error is delivered again (with
`retry_num`), and a person told to try again (or told nothing) sends the report again once
the run is over. Figures: wins lost, reports lost or duplicated, people told something false.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import create_engine, func, select, text

from bot.emulator.sandbox import Sandbox
from bot.wins import deferred
from bot.wins import flow as wins
from bot.wins.queries import LEASE
from storage.models import Measure, Partner, Report, Win

REPORTERS = (("U0AAA", "county-health"), ("U0DDD", "family-connects"))
MEASURE = "home-visits"
# Reports go to the last two years' months (older ones are refused: SPEC §9), each with a
# value of its own, close enough to the others that the data-quality guard never holds one.
MONTHS = 24
REDELIVERIES = 20


@dataclass
class Figures:
    kills: int = 0
    reactions: int = 0
    redeliveries: int = 0
    reports: int = 0
    told_recorded: int = 0
    told_try_again: int = 0
    told_nothing: int = 0
    retried: int = 0
    wins_lost: int = 0
    wins_posted: int = 0
    reports_lost: int = 0
    reports_duplicated: int = 0
    told_false: int = 0

    def lines(self) -> list[str]:
        return [f"{k.replace('_', ' ')}: {v}" for k, v in vars(self).items()]


def _period(n: int) -> str:
    back = (n // len(REPORTERS)) % MONTHS  # months before October 2026
    month = 2026 * 12 + 9 - back
    return f"{month // 12}-{month % 12 + 1:02d}"


def _value(n: int) -> int:
    return 100 + n


def _report_text(n: int) -> str:
    return f"report {MEASURE} {_value(n)} for {_period(n)}"


def _rows(sandbox: Sandbox, n: int) -> int:
    _, partner = REPORTERS[n % len(REPORTERS)]
    with sandbox.store.session() as session:
        return int(session.scalar(
            select(func.count()).select_from(Report)
            .join(Partner, Partner.id == Report.partner_id)
            .join(Measure, Measure.id == Report.measure_id)
            .where(Partner.key == partner, Measure.key == MEASURE,
                   Report.period == _period(n), Report.value == float(_value(n)))) or 0)


def _killer(url: str, every: float, stop: threading.Event, figures: Figures) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            while not stop.wait(every):
                figures.kills += int(connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                    .scalar() or 0)
    finally:
        admin.dispose()


def fault_run(sandbox: Sandbox, *, seconds: float, reactions: int, reports: int,
              kill_every: float = 0.2) -> Figures:
    emu, driver, figures = sandbox.emulator, sandbox.driver, Figures()
    messages = [emu.add_message("C0GENERAL", user="U0DDD", text=f"Fault-run win {n}")
                for n in range(reactions)]
    stop = threading.Event()
    killer = threading.Thread(target=_killer, args=(sandbox.store.url, kill_every, stop,
                                                    figures), daemon=True)
    urls: list[str] = []
    new_url = emu.new_response_url

    def remember(channel: str | None = None) -> str:  # only the report thread sends them
        url = new_url(channel)
        urls.append(url)
        return url

    def react_all() -> None:
        for n, ts in enumerate(messages):
            time.sleep(seconds / max(1, reactions))
            event_id = f"Ev0FAULT{n:05d}"
            reply = driver.reaction("U0BBB", "C0GENERAL", ts, event_id=event_id)
            figures.reactions += 1
            tries = 0
            while reply.status != 200 and tries < REDELIVERIES:  # Slack delivers again
                tries += 1
                figures.redeliveries += 1
                reply = driver.reaction("U0BBB", "C0GENERAL", ts, event_id=event_id,
                                        retry_num=tries)

    def report_all() -> None:
        for n in range(reports):
            time.sleep(seconds / max(1, reports))
            driver.command(REPORTERS[n % len(REPORTERS)][0], _report_text(n))
            figures.reports += 1

    emu.new_response_url = remember  # type: ignore[method-assign]
    killer.start()
    threads = [threading.Thread(target=react_all), threading.Thread(target=report_all)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        killer.join()
        emu.new_response_url = new_url  # type: ignore[method-assign]
    sandbox.settle(timeout=120)

    # What each person was told, against what the database holds.
    to_retry = []
    for n, url in enumerate(urls):
        said = [str(p.payload.get("text") or "") for p in emu.response_posts if p.url == url]
        recorded = any(s.startswith("Recorded") for s in said)
        stored = _rows(sandbox, n)
        if recorded:
            figures.told_recorded += 1
            figures.told_false += stored == 0
        elif said:
            figures.told_try_again += 1
            figures.told_false += stored > 0 and any("nothing was changed" in s for s in said)
        else:
            figures.told_nothing += 1
        if not recorded:
            to_retry.append(n)
    for n in to_retry:  # as told: try again
        figures.retried += 1
        driver.command(REPORTERS[n % len(REPORTERS)][0], _report_text(n))
    sandbox.settle(timeout=60)
    for n in range(reports):
        stored = _rows(sandbox, n)
        figures.reports_lost += stored == 0
        figures.reports_duplicated += max(0, stored - 1)

    # Leases of work the kills interrupted run out; the wins tick finishes it.
    for _ in range(3):
        sandbox.clock.advance(max(LEASE, deferred.REPLAY_LEASE) + timedelta(seconds=1))
        wins.wins_tick(sandbox.services)
    with sandbox.store.session() as session:
        posted = session.scalar(select(func.count()).select_from(Win)
                                .where(Win.status == "posted")) or 0
    figures.wins_posted = len(emu.bot_messages("C0WINS"))
    figures.wins_lost = reactions - int(posted)
    return figures
