"""The weekly digest with Results-Based Accountability at scale (SPEC §10): time, statements.

    PYTHONPATH=. python bench/digest_rba.py [--postgres URL] [--repeat 5]

The store: 200 partners, 100 measures (80 monthly, 10 quarterly, 10 weekly; 160 partners
each), 36 months of reports (about 720,000, with some corrections), 20,000 posted wins,
commitments and community voice. Results-Based Accountability (SPEC §10): one in five
measures is a rate broken down into 5 groups (so 20% of the reports come with 5 group
figures each, some below `min_group`), the initiative started in January 2026 (the years
before feed the forecasts), 5 headline measures, indicators, and a story per partner.
Prints the time and the number of SQL statements it takes to build the digest (data and
Block Kit). Goal: at most 1 s and 15 statements.

PostgreSQL: give a scratch database; its tables are emptied first.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.digest import (  # the same store, helpers and timing
    MEASURES,
    MONTHS,
    NOW,
    PARTNERS,
    _insert,
    _periods,
    activity,
    chart,
    measure,
    verdict,
)
from bench.scratch import analyze, scratch_store
from storage import report_totals
from storage.db import Store
from storage.models import (
    GroupReport,
    Initiative,
    Measure,
    MeasurePartner,
    Partner,
    Report,
    Skip,
    Story,
)

PARTNERS_PER_MEASURE = 160  # bench/digest.py's store has 20
GROUPS = ("Black", "Hispanic/Latino", "White", "Asian", "Other")


def populate(store: Store) -> dict[str, int]:
    rng = random.Random(46)
    _insert(store, Initiative, [dict(
        id=1, name="Benchmark Collective", agenda="", timezone="America/Chicago",
        admins=["U0ADMIN"], backbone_channel="C0BACKBONE", wins_channel="C0WINS",
        reminder_day=1, reminder_time="09:00", nudge_after_days=3, max_nudges=2,
        digest_weekday=4, digest_time="15:00", win_emoji=["tada"], win_threshold=1,
        updated_at=NOW, start=date(2026, 1, 1),
        dimensions=[{"key": "race", "name": "Race/ethnicity", "groups": list(GROUPS)}],
        results=[{"key": "healthy", "name": "Every child is healthy",
                  "indicators": [f"measure-{m}" for m in range(1, MEASURES, 10)]}])])
    _insert(store, Partner, [dict(id=p + 1, key=f"partner-{p}", name=f"Partner {p}",
                                  position=p, active=True) for p in range(PARTNERS)])
    cadences = ["monthly"] * 80 + ["quarterly"] * 10 + ["weekly"] * 10
    def broken(m: int) -> bool:
        return m % 5 == 0  # a rate by race/ethnicity: one measure in five

    _insert(store, Measure, [dict(
        id=m + 1, key=f"measure-{m}", name=f"Shared measure {m}",
        unit="%" if broken(m) else "people",
        direction="up" if m % 3 else "down", baseline=100.0, target=200.0 if m % 3 else 50.0,
        cadence=cadences[m], position=m, active=True,
        aggregate="pooled" if broken(m) else ("sum", "avg", "latest")[m % 3], rate=broken(m),
        breakdowns=["race"] if broken(m) else [], min_group=20 if broken(m) else None,
        kind="indicator" if m % 10 == 1 else "performance", headline=m < 5,
        result="healthy" if m % 10 < 3 else None,
        quadrant=None if m % 10 == 1 else ("how-much", "how-well", "better-off")[m % 3])
        for m in range(MEASURES)])
    assignments = [(m + 1, (m * 7 + k) % PARTNERS + 1)
                   for m in range(MEASURES) for k in range(PARTNERS_PER_MEASURE)]
    _insert(store, MeasurePartner, [dict(measure_id=m, partner_id=p) for m, p in assignments])

    periods = {c: _periods(c, MONTHS) for c in ("monthly", "quarterly", "weekly")}
    reports: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    skips: list[dict[str, Any]] = []
    for measure_id, partner_id in assignments:
        for period in periods[cadences[measure_id - 1]]:
            at = datetime.combine(period.end, datetime.min.time(), tzinfo=UTC) + timedelta(
                days=rng.randint(0, 12), hours=rng.randint(8, 18))
            if at > NOW or rng.random() < 0.03:
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
                                    is_current=False, numerator=None, denominator=None))
                at += timedelta(hours=3)
            numerator = denominator = None
            if broken(measure_id - 1):
                denominator = float(rng.randint(50, 200))
                numerator = float(rng.randint(0, int(denominator)))
                value = 100 * numerator / denominator
                for group in GROUPS:  # some groups are below min_group (20)
                    size = float(rng.randint(5, 60))
                    part = float(rng.randint(0, int(size)))
                    groups.append(dict(
                        measure_id=measure_id, partner_id=partner_id, period=period.key,
                        dimension="race", group_name=group, value=100 * part / size,
                        numerator=part, denominator=size, reported_by="U0P", reported_at=at,
                        source="slash", is_current=True))
            reports.append(dict(measure_id=measure_id, partner_id=partner_id,
                                period=period.key, value=value, note="", reported_by="U0P",
                                reported_at=at, source="slash", is_current=True,
                                numerator=numerator, denominator=denominator))
    counted = len(reports)
    broken_reports = sum(1 for r in reports if r.get("denominator") is not None and r["is_current"])
    _insert(store, Report, reports)
    _insert(store, GroupReport, groups)
    del reports[:]
    _insert(store, Story, [dict(
        measure_id=m % MEASURES + 1, partner_id=m % PARTNERS + 1, period="2026-10",
        helping="evening hours", hurting="", partners_role="", what_works="", proposal="",
        written_by="U0P", written_at=NOW - timedelta(hours=m), is_current=True)
        for m in range(PARTNERS)])
    _insert(store, Skip, skips)
    with store.session() as session:  # what the writers of reports keep beside them
        report_totals.rebuild(session)

    wins = activity(store, rng)
    return {"reports": counted, "groups": len(groups), "skips": len(skips), "wins": wins,
            "broken": broken_reports}


def run(label: str, url: str, repeat: int, chart_out: Path | None = None) -> None:
    store = scratch_store(url)
    started = time.perf_counter()
    sizes = populate(store)
    analyze(store)
    filled = time.perf_counter() - started
    times, statements, blocks = measure(store, repeat)
    drawn = chart(store, chart_out)
    store.dispose()
    print(f"{label}: store of {PARTNERS} partners, {MEASURES} measures, "
          f"{sizes['reports']:,} reports ({MONTHS} months; {sizes['broken']:,} of them "
          f"broken down into {len(GROUPS)} groups: {sizes['groups']:,} group figures), "
          f"{sizes['skips']:,} skips, {sizes['wins']:,} wins (filled in {filled:.1f} s)")
    verdict(label, times, statements, blocks, drawn, goal=1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chart", type=Path, metavar="PNG", help="save the chart here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.repeat, args.chart)
    if args.postgres:
        run("PostgreSQL", args.postgres, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
