"""Benchmark: build the weekly digest from a large store, on SQLite and PostgreSQL.

    PYTHONPATH=. python bench/digest.py [--postgres URL] [--repeat 5] [--reports N]

The store: 200 partners, 100 measures (80 monthly, 10 quarterly, 10 weekly; 20 partners
each), 36 months of reports (with some corrections), 20,000 posted wins, commitments and
community voice. With `--reports N` (the sizes issue 15 names: 720000, 2000000) every
partner reports every measure, all monthly, for N / 20,000 months (36 months for 720,000;
100 months for 2,000,000). Prints the time and the number of SQL statements it takes to
build the digest (data and Block Kit), and the process's peak RSS. Goal: at most 1 s (2 s
at 2,000,000 reports) and 15 statements.

PostgreSQL: give a scratch database; its tables are emptied first.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from bench.scratch import analyze, scratch_store
from bot.digest.blocks import digest_message
from bot.digest.data import build_digest
from bot.measures.periods import Period, period_containing
from storage import report_totals
from storage.db import Store
from storage.models import (
    Commitment,
    Initiative,
    Measure,
    MeasurePartner,
    Partner,
    Report,
    Skip,
    Voice,
    Win,
)

NOW = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)  # a Friday at 15:00 in Chicago
PARTNERS, MEASURES, MONTHS, WINS = 200, 100, 36, 20_000
PARTNERS_PER_MEASURE = 20
CHUNK = 5_000


def _periods(cadence: str, months: int) -> list[Period]:
    """Every period of `cadence` in the `months` months before NOW's month."""
    end = date(NOW.year, NOW.month, 1)
    start = date(end.year - months // 12, end.month, 1)
    out: list[Period] = []
    period = period_containing(cadence, start)  # type: ignore[arg-type]
    while period.end <= end + timedelta(days=6 if cadence == "weekly" else 0):
        out.append(period)
        period = period.next()
    return out


def _insert(store: Store, model: Any, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as connection:
        for i in range(0, len(rows), CHUNK):
            connection.execute(insert(model), rows[i:i + CHUNK])


def populate(store: Store, full: int | None = None) -> dict[str, int]:
    """The store; `full`: every partner reports every measure, monthly, for about
    `full` reports in all."""
    rng = random.Random(46)
    _insert(store, Initiative, [dict(
        id=1, name="Benchmark Collective", agenda="", timezone="America/Chicago",
        admins=["U0ADMIN"], backbone_channel="C0BACKBONE", wins_channel="C0WINS",
        reminder_day=1, reminder_time="09:00", nudge_after_days=3, max_nudges=2,
        digest_weekday=4, digest_time="15:00", win_emoji=["tada"], win_threshold=1,
        updated_at=NOW)])
    _insert(store, Partner, [dict(id=p + 1, key=f"partner-{p}", name=f"Partner {p}",
                                  position=p, active=True) for p in range(PARTNERS)])
    cadences = ["monthly"] * 80 + ["quarterly"] * 10 + ["weekly"] * 10
    months = MONTHS
    per_measure = PARTNERS_PER_MEASURE
    if full is not None:
        cadences = ["monthly"] * MEASURES
        per_measure = PARTNERS
        months = max(1, round(full / (PARTNERS * MEASURES)))
    _insert(store, Measure, [dict(
        id=m + 1, key=f"measure-{m}", name=f"Shared measure {m}", unit="people",
        direction="up" if m % 3 else "down", baseline=100.0, target=200.0 if m % 3 else 50.0,
        cadence=cadences[m], aggregate=("sum", "avg", "latest")[m % 3], position=m,
        active=True) for m in range(MEASURES)])
    assignments = ([(m + 1, p + 1) for m in range(MEASURES) for p in range(PARTNERS)]
                   if full is not None else
                   [(m + 1, (m * 7 + k * 10) % PARTNERS + 1)
                    for m in range(MEASURES) for k in range(per_measure)])
    _insert(store, MeasurePartner, [dict(measure_id=m, partner_id=p) for m, p in assignments])

    periods = {c: _periods(c, months) for c in ("monthly", "quarterly", "weekly")}
    reports: list[dict[str, Any]] = []
    skips: list[dict[str, Any]] = []
    report_count = 0
    for measure_id, partner_id in assignments:
        if len(reports) >= CHUNK * 20:  # insert as we go: 2M dicts would not fit comfortably
            _insert(store, Report, reports)
            report_count += len(reports)
            reports.clear()
        for period in periods[cadences[measure_id - 1]]:
            at = datetime.combine(period.end, datetime.min.time(), tzinfo=UTC) + timedelta(
                days=rng.randint(0, 12), hours=rng.randint(8, 18))
            if full is not None and at > NOW:
                at = NOW - timedelta(hours=1)  # every partner reports every period
            elif at > NOW or rng.random() < 0.03:
                if at <= NOW and rng.random() < 0.5:
                    skips.append(dict(measure_id=measure_id, partner_id=partner_id,
                                      period=period.key, reason="no data this period",
                                      skipped_by="U0P", skipped_at=at))
                continue
            value = 100 + rng.random() * 50
            if rng.random() < 0.05:  # a correction: the first value stays in history
                reports.append(dict(measure_id=measure_id, partner_id=partner_id,
                                    period=period.key, value=value - 5, note="",
                                    reported_by="U0P", reported_at=at, source="slash",
                                    is_current=False))
                at += timedelta(hours=3)
            reports.append(dict(measure_id=measure_id, partner_id=partner_id,
                                period=period.key, value=value, note="", reported_by="U0P",
                                reported_at=at, source="slash", is_current=True))
    _insert(store, Report, reports)
    report_count += len(reports)
    _insert(store, Skip, skips)
    with store.session() as session:  # what the writers of reports keep beside them
        report_totals.rebuild(session)

    wins = activity(store, rng)
    return {"reports": report_count, "skips": len(skips), "wins": wins,
            "months": months}


def activity(store: Store, rng: random.Random) -> int:
    """The week's other material: posted wins, commitments, community voice. Answers how
    many wins."""
    span = (MONTHS * 30) * 24 * 3600
    wins = []
    for i in range(WINS):
        at = NOW - timedelta(seconds=rng.randint(0, span))
        wins.append(dict(source="reaction", channel_id="C0GENERAL", message_ts=f"{i}.0",
                         author_id=f"U{i % 500:04d}", partner_id=i % PARTNERS + 1,
                         text=f"Win number {i}", permalink=f"https://x.slack.com/archives/C0/p{i}",
                         reactors=[], status="posted", created_at=at, posted_at=at,
                         posted_channel="C0WINS", posted_ts=f"{i}.1"))
    _insert(store, Win, wins)
    _insert(store, Commitment, [dict(
        partner_id=p + 1, resources="staff", data="monthly counts", activities="outreach",
        signed_agenda=True, signed_by="U0P",
        signed_at=NOW - timedelta(days=rng.randint(0, 400)), is_current=True)
        for p in range(PARTNERS)])
    _insert(store, Voice, [dict(text="voice", created_at=NOW - timedelta(hours=i * 7))
                           for i in range(3000)])
    return len(wins)


def chart(store: Store, out: Path | None) -> str:
    from bot.digest.chart import render_chart

    with store.session() as session:
        data = build_digest(session, NOW)
    assert data is not None
    started = time.perf_counter()
    png = render_chart(data)
    elapsed = time.perf_counter() - started
    if png is None:
        return "no chart (matplotlib missing)"
    if out is not None:
        out.write_bytes(png)
    return f"chart drawn in {elapsed * 1000:.0f} ms ({len(png) // 1024} KiB PNG, not counted)"


def measure(store: Store, repeat: int) -> tuple[list[float], int, int]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    times = []
    blocks = 0
    for _ in range(repeat):
        statements.clear()
        event.listen(store.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        with store.session() as session:
            data = build_digest(session, NOW)
            assert data is not None
            rendered = digest_message(data)
        times.append(time.perf_counter() - started)
        event.remove(store.engine, "before_cursor_execute", count)
        blocks = len(rendered.main.blocks) + sum(len(p.blocks) for p in rendered.thread)
    return times, len(statements), blocks


def run(label: str, url: str, repeat: int, chart_out: Path | None = None,
        full: int | None = None) -> None:
    store = scratch_store(url)
    started = time.perf_counter()
    sizes = populate(store, full)
    analyze(store)
    filled = time.perf_counter() - started
    times, statements, blocks = measure(store, repeat)
    drawn = chart(store, chart_out)
    store.dispose()
    print(f"{label}: store of {PARTNERS} partners, {MEASURES} measures, "
          f"{sizes['reports']:,} reports ({sizes['months']} months), {sizes['skips']:,} skips, "
          f"{sizes['wins']:,} wins (filled in {filled:.1f} s)")
    verdict(label, times, statements, blocks, drawn,
            goal=2.0 if sizes["reports"] > 1_000_000 else 1.0)


def verdict(label: str, times: list[float], statements: int, blocks: int, drawn: str, *,
            goal: float) -> None:
    """The digest's times and statements against the goal, and the peak RSS."""
    print(f"{label}: digest built in {statistics.median(times) * 1000:.0f} ms median, "
          f"{min(times) * 1000:.0f} ms best, {times[0] * 1000:.0f} ms first "
          f"(of {len(times)}); {statements} SQL statements; {blocks} blocks in all; {drawn}")
    ok = statistics.median(times) <= goal and statements <= 15
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{label}: goal ≤ {goal:g} s and ≤ 15 statements: {'met' if ok else 'NOT met'}; "
          f"peak RSS of this process so far {peak:,.0f} MiB (filling the store included)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chart", type=Path, metavar="PNG", help="save the chart here")
    parser.add_argument("--reports", type=int, metavar="N",
                        help="every partner reports every measure monthly: about N reports")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.repeat, args.chart,
                args.reports)
    if args.postgres:
        run("PostgreSQL", args.postgres, args.repeat, full=args.reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
