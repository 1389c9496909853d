"""Where each shared measure stands: value, target, progress, trend and who has reported.

`measure_statuses()` is the plain-data answer (the digest and App Home reuse it);
`measures_message()` renders it for `/impact measures`.

The value shown for a measure is the aggregate (its `aggregate` rule across partners'
current values) for the latest period that has any report, looking back `HISTORY`
periods from its reporting period; when that is not the reporting period itself, the
period is named so nobody mistakes an old number for this period's. "Reported" counts the
measure's assigned partners that have a current value for the reporting period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.measures.periods import CADENCES, Period, as_cadence, recent_periods, reporting_period
from bot.measures.phrases import period_words
from bot.measures.progress import (
    PartnerValue,
    Trend,
    aggregate,
    coverage_text,
    format_delta,
    format_percent,
    format_value,
    like_for_like,
    progress_fraction,
    sparkline,
    trend,
)
from bot.rendering import blocks as bk
from bot.rendering import dates
from storage.models import Initiative, Measure, MeasurePartner, Partner, Report

HISTORY = 6  # periods looked back, and shown in the sparkline
MAX_LISTED = 45  # a message holds 50 blocks; the rest are counted, not shown
WAITING_LISTED = 5  # name the partners still to report when there are this few


@dataclass(frozen=True)
class MeasureStatus:
    key: str
    name: str
    unit: str
    direction: str
    aggregate_rule: str
    baseline: float | None
    target: float | None
    target_date: date | None
    period: Period  # the reporting period at the time asked
    value_period: Period | None  # the period `value` belongs to (None: nothing reported)
    value: float | None
    previous: float | None  # the period before `value_period`, over the partners in both
    progress: float | None
    trend: Trend  # like for like: over the partners that reported in both periods
    reported: int  # assigned partners with a current value for `period`
    expected: int  # assigned, active partners
    history: tuple[float | None, ...]  # aggregates for the last HISTORY periods, oldest first
    waiting_on: tuple[str, ...] = ()  # keys of assigned partners yet to report for `period`
    coverage: int = 0  # partners whose values make up `value`
    change_partners: int = 0  # partners that reported in both periods of the trend


def measure_statuses(session: Session, initiative: Initiative,
                     now: datetime) -> list[MeasureStatus]:
    """Every active measure's standing at `now`, in three queries."""
    tz = ZoneInfo(initiative.timezone)
    measures = session.scalars(select(Measure).where(Measure.active.is_(True))
                               .order_by(Measure.position, Measure.key)).all()
    if not measures:
        return []
    # Every cadence's window (not only the cadences in use), so the statement keeps its shape.
    fy_start = initiative.fiscal_year_start
    by_cadence = {c: recent_periods(reporting_period(c, now, tz, fy_start), HISTORY + 1)
                  for c in CADENCES}
    windows = {m.id: by_cadence[as_cadence(m.cadence)] for m in measures}
    keys = sorted({p.key for window in by_cadence.values() for p in window})
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period, Report.value,
               Report.reported_at, Report.numerator, Report.denominator)
        .join(Measure, Measure.id == Report.measure_id)
        .where(Report.is_current.is_(True), Measure.active.is_(True),
               Report.period.in_(keys))).all()
    values: dict[tuple[int, str], list[PartnerValue]] = defaultdict(list)
    for measure_id, partner_id, period_key, reported, reported_at, num, den in rows:
        values[(measure_id, period_key)].append(PartnerValue(partner_id, reported, reported_at,
                                                             num, den))
    assigned: dict[int, dict[int, str]] = defaultdict(dict)  # measure -> partner id -> key
    for measure_id, partner_id, partner_key in session.execute(
            select(MeasurePartner.measure_id, MeasurePartner.partner_id, Partner.key)
            .join(Partner, Partner.id == MeasurePartner.partner_id)
            .where(Partner.active.is_(True))
            .order_by(Partner.position, Partner.key)):
        assigned[measure_id][partner_id] = partner_key

    out = []
    for m in measures:
        window = windows[m.id]  # oldest first; the last one is the reporting period
        series = [aggregate(values.get((m.id, p.key), []), m.aggregate) for p in window]
        latest = next((i for i in range(len(window) - 1, 0, -1) if series[i] is not None),
                      None)
        value = series[latest] if latest is not None else None
        change = previous = None
        coverage = change_partners = 0
        if latest is not None:
            now_values = values.get((m.id, window[latest].key), [])
            before_values = values.get((m.id, window[latest - 1].key), [])
            coverage = len(now_values)
            found = like_for_like(now_values, before_values, m.aggregate)
            change, change_partners = found.delta, found.partners
            if change is not None and value is not None:
                previous = value - change
        period = window[-1]
        reporters = {v.partner_id for v in values.get((m.id, period.key), [])}
        out.append(MeasureStatus(
            key=m.key, name=m.name, unit=m.unit, direction=m.direction,
            aggregate_rule=m.aggregate, baseline=m.baseline, target=m.target,
            target_date=m.target_date, period=period,
            value_period=window[latest] if latest is not None else None,
            value=value, previous=previous,
            progress=progress_fraction(value, m.baseline, m.target),
            trend=_trend(change, m.direction),
            coverage=coverage, change_partners=change_partners,
            reported=len(reporters & assigned[m.id].keys()), expected=len(assigned[m.id]),
            waiting_on=tuple(key for pid, key in assigned[m.id].items()
                             if pid not in reporters),
            history=tuple(series[1:]),
        ))
    return out



def _trend(change: float | None, direction: str) -> Trend:
    return trend(None if change is None else change, None if change is None else 0.0,
                 direction)


# --- rendering ---------------------------------------------------------------------------

__all__ = ["MeasureStatus", "describe", "format_delta", "measure_statuses", "measures_message"]


def _shown(period: Period) -> str:
    """A period as the view names it: its key, and for a year its months too (`FY2027 (Jul
    2026–Jun 2027)`), since a fiscal year's key alone does not say when it ran."""
    return period_words(period) if period.cadence == "annual" else period.key


def describe(status: MeasureStatus) -> str:
    """One measure as mrkdwn: value, target, progress, trend, reporting."""
    s = status
    title = f"*{bk.escape(s.name)}*  `{s.key}`"
    if s.value is None or s.value_period is None:
        value = f"No value yet (last {HISTORY} periods)"
    else:
        stale = "" if s.value_period == s.period else " — latest reported"
        value = (f"*{format_value(s.value, s.unit)}* for {_shown(s.value_period)}{stale} "
                 f"({s.aggregate_rule}, {coverage_text(s.coverage, s.expected)})")
    target = ""
    if s.target is not None:
        by = f" by {dates.day(s.target_date)}" if s.target_date else ""
        target = f" · target {format_value(s.target, s.unit)}{by}"
    progress = ""
    if s.progress is not None:
        progress = (f" · {format_percent(s.progress)} of the way from baseline "
                    f"{format_value(s.baseline, s.unit)}")
    if s.value is None:
        change = ""
    elif s.trend.delta is None:
        change = (f"{s.trend.arrow} no earlier value from the same partners"
                  if s.coverage else f"{s.trend.arrow} {s.trend.word}")
    elif s.trend.better is None:
        change = (f"{s.trend.arrow} no change from the period before (like for like: "
                  f"{coverage_text(s.change_partners, s.expected)} reported in both)")
    else:
        change = (f"{s.trend.arrow} {format_delta(s.trend.delta, s.unit)} on the period "
                  f"before, {s.trend.word} (like for like: "
                  f"{coverage_text(s.change_partners, s.expected)} reported in both)")
    spark = sparkline(list(s.history))
    spark_text = f" · `{spark}`" if spark.strip() and change else ""
    partners = "partner" if s.expected == 1 else "partners"
    reported = f"{s.reported} of {s.expected} {partners} reported for {_shown(s.period)}"
    if s.waiting_on and len(s.waiting_on) <= WAITING_LISTED:
        reported += " (waiting on " + ", ".join(f"`{k}`" for k in s.waiting_on) + ")"
    last = " · ".join(part for part in (change + spark_text, reported) if part)
    return f"{title}\n{value}{target}{progress}\n{last}"


def measures_message(statuses: list[MeasureStatus]) -> dict[str, Any]:
    if not statuses:
        text = "No shared measures yet: the backbone team defines them in initiative.yml."
        return bk.message(text, [bk.section(text)])
    shown = statuses[:MAX_LISTED]
    blocks = [bk.header("Shared measures")]
    blocks += [bk.section(describe(s)) for s in shown]
    if len(statuses) > len(shown):
        blocks.append(bk.context(f"…and {len(statuses) - len(shown)} more measures."))
    text = "Shared measures: " + "; ".join(
        f"{s.name} {format_value(s.value, s.unit)}" for s in statuses)
    return bk.message(text, blocks)
