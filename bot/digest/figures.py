"""Each measure's figures per period, read from the store for the digest and the public
scorecard alike: the aggregates of every period shown (one statement) and the like-for-like
change of the latest period (one statement). The covering index on reports
(`ix_reports_figures`) answers both without visiting the table.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import cast

from sqlalchemy import String, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from bot.digest.content import PeriodAggregate
from bot.measures.progress import Change, PartnerValue, like_for_like
from storage.models import Measure, Report


def period_aggregates(session: Session, measures: list[Measure], period_keys: list[str]
                      ) -> dict[tuple[int, str], PeriodAggregate]:
    """Sum, count, Σ numerators and Σ denominators per (measure, period), and for `latest`
    measures the most recently reported current value: one statement, the grouped figures
    and (a window over those measures' reports) the latest values, as one union."""
    measure_ids = [m.id for m in measures]
    if not measure_ids or not period_keys:
        return {}
    current = (Report.is_current.is_(True), Report.period.in_(period_keys))
    grouped = (
        select(Report.measure_id, Report.period, func.sum(Report.value).label("total"),
               func.count().label("n"), func.sum(Report.numerator).label("nums"),
               func.sum(Report.denominator).label("dens"), literal(0).label("latest"))
        .where(*current, Report.measure_id.in_(measure_ids))
        .group_by(Report.measure_id, Report.period))
    statement = grouped
    latest_ids = [m.id for m in measures if m.aggregate == "latest"]
    if latest_ids:
        ranked = (
            select(Report.measure_id, Report.period, Report.value,
                   func.row_number().over(
                       partition_by=(Report.measure_id, Report.period),
                       order_by=(Report.reported_at.desc(), Report.partner_id.desc())
                   ).label("rank"))
            .where(*current, Report.measure_id.in_(latest_ids))
            .subquery())
        newest = (select(ranked.c.measure_id, ranked.c.period, ranked.c.value, literal(0),
                         literal(None), literal(None), literal(1))
                  .where(ranked.c.rank == 1))
        statement = grouped.union_all(newest)  # type: ignore[assignment]
    figures: dict[tuple[int, str], list[float]] = {}
    newest_values: dict[tuple[int, str], float] = {}
    for measure_id, period, total, n, nums, dens, is_latest in session.execute(statement).all():
        if is_latest:
            newest_values[(measure_id, period)] = float(total)
        else:
            figures[(measure_id, period)] = [float(total), int(n), float(nums or 0),
                                             float(dens or 0)]
    return {key: PeriodAggregate(total, int(n), newest_values.get(key, 0.0), nums, dens)
            for key, (total, n, nums, dens) in figures.items()}


def like_for_like_changes(session: Session, measures: list[Measure],
                          latest: dict[int, tuple[str, str]]) -> dict[int, Change]:
    """Each measure's change from the period before its latest one with a value, over the
    partners that reported in both: one statement for the two periods of every measure."""
    if not latest:
        return {}
    keys = sorted({k for pair in latest.values() for k in pair})
    # reported_at only orders reports (the `latest` rule): read as the database gives it,
    # without turning 10,000s of values into aware datetimes (they compare alike either way).
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period, Report.value,
               type_coerce(Report.reported_at, String), Report.numerator, Report.denominator)
        .where(Report.is_current.is_(True), Report.measure_id.in_(latest),
               Report.period.in_(keys)))
    found: dict[tuple[int, str], list[PartnerValue]] = defaultdict(list)
    for measure_id, partner_id, period, value, reported_at, num, den in rows:
        if period in latest[measure_id]:
            found[(measure_id, period)].append(
                PartnerValue(partner_id, value, cast(datetime, reported_at), num, den))
    rules = {m.id: m.aggregate for m in measures}
    return {measure_id: like_for_like(found[(measure_id, now)], found[(measure_id, before)],
                                      rules[measure_id])
            for measure_id, (now, before) in latest.items()}
