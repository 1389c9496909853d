"""The history a forecast is fitted on (SPEC §10): each measure's figure per period over
the years before the initiative's start, read once and kept in memory.

Those periods are the past: their reports change only when someone imports or corrects
history, and every such write changes the initiative's `history_token`
(`note_history_written`). So the figures are kept per (database, workspace, token, start,
initiative version) and read again only when one of those moves; a scorecard or digest
after a report for this month does not re-read years of reports.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from datetime import date
from uuid import uuid4

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.measures.forecast import YEARS
from bot.measures.periods import Period, as_cadence, parse_period
from bot.measures.progress import pooled
from storage.db import session_team
from storage.models import Initiative, Measure, ReportTotal

History = dict[int, list[tuple[date, float]]]  # measure id -> (period start, figure)

_KEPT = 32  # workspaces whose history stays in memory (least recently used go first)
_cache: OrderedDict[tuple[object, ...], History] = OrderedDict()
_lock = threading.Lock()


def note_history_written(initiative: Initiative, *periods: Period | str) -> None:
    """Call when reports for `periods` are written: one before the start changes the token,
    so the forecasts are fitted again on what is now stored. (A key alone is judged by its
    year, so every key of the start's year counts: a token changed for nothing costs one
    read, one left unchanged would keep a wrong forecast.)"""
    if initiative.start is None:
        return
    start, ranges = initiative.start, _ranges(initiative)
    if any(period.start < start if isinstance(period, Period)
           else any(low <= period < high for low, high in ranges) for period in periods):
        initiative.history_token = uuid4().hex


def forecast_history(session: Session, initiative: Initiative, measure_ids: list[int]
                     ) -> History:
    """The figures of `measure_ids` per period that ended by the start: pooled for rates, summed
    for `sum`, averaged otherwise (`latest` is read as the average here). One statement
    for the measures not yet kept (from the totals kept beside the reports), none when
    all are."""
    if initiative.start is None or not measure_ids:
        return {}
    key = (str(session.get_bind().engine.url), session_team(session), initiative.history_token,
           initiative.start, initiative.updated_at)
    with _lock:
        kept = _cache.get(key)
        if kept is not None:
            _cache.move_to_end(key)
    missing = [m for m in measure_ids if kept is None or m not in kept]
    if missing:
        read = _read(session, initiative, missing)
        with _lock:
            kept = _cache.setdefault(key, {})
            _cache.move_to_end(key)
            for measure_id in missing:
                kept[measure_id] = read.get(measure_id, [])
            while len(_cache) > _KEPT:
                _cache.popitem(last=False)
    assert kept is not None
    return {m: kept[m] for m in measure_ids if kept.get(m)}


def forget_all() -> None:
    """Drop what is kept (the next read of each workspace's history asks the database)."""
    with _lock:
        _cache.clear()


def _ranges(initiative: Initiative) -> tuple[tuple[str, str], ...]:
    """The period keys a forecast may look at, as ranges of text: from the first year it
    fits on to the start's year (keys sort by year first; a start on 1 January needs no
    period of its own year), and the fiscal years (`FY2027`, the year ending in 2027, which
    began in 2026) that began in those years."""
    start = initiative.start
    assert start is not None
    ends = start.year + (0 if (start.month, start.day) == (1, 1) else 1)
    return ((f"{start.year - YEARS:04d}", f"{ends}"),
            (f"FY{start.year - YEARS:04d}", f"FY{start.year + 2:04d}"))


def _read(session: Session, initiative: Initiative, measure_ids: list[int]) -> History:
    start = initiative.start
    assert start is not None
    (low, high), (fiscal_low, fiscal_high) = _ranges(initiative)
    rows = session.execute(
        select(ReportTotal.measure_id, Measure.cadence, Measure.aggregate, ReportTotal.period,
               ReportTotal.total, ReportTotal.total / ReportTotal.reports,
               ReportTotal.numerators, ReportTotal.denominators)
        .join(Measure, Measure.id == ReportTotal.measure_id)
        .where(ReportTotal.reports > 0, ReportTotal.measure_id.in_(measure_ids),
               or_(and_(ReportTotal.period >= low, ReportTotal.period < high),
                   and_(ReportTotal.period >= fiscal_low, ReportTotal.period < fiscal_high))))
    out: History = defaultdict(list)
    for measure_id, cadence, rule, period, total, mean, num, den in rows:
        try:
            span = parse_period(as_cadence(cadence), period, initiative.fiscal_year_start)
        except ValueError:
            continue
        value = (pooled(num or 0.0, den or 0.0) if rule == "pooled"
                 else total if rule == "sum" else mean)
        # Whole periods before the start only: one the start falls in is partly the
        # initiative's own work, and the line it is judged against must not contain it.
        if value is not None and span.end <= start:
            out[measure_id].append((span.start, float(value)))
    return out
