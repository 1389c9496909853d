"""The scorecard's figures, read lean: per measure, the recent periods' aggregates and their
coverage, and the like-for-like change. The digest's own reads and arithmetic
(`bot/digest/figures.py`), without what only the digest needs (who owes what, engagement,
wins, commitments): a few statements whatever the store's size.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.digest.content import HISTORY_PERIODS, MeasureLine, aggregate_value
from bot.digest.figures import latest_changes, period_aggregates
from bot.measures.periods import CADENCES, as_cadence, recent_periods, reporting_period
from storage.models import Initiative, Measure, MeasurePartner, Partner


def measure_lines(session: Session, initiative: Initiative, now: datetime) -> list[MeasureLine]:
    tz = ZoneInfo(initiative.timezone)
    measures = list(session.scalars(
        select(Measure).where(Measure.active.is_(True)).order_by(Measure.position, Measure.id)))
    assigned: dict[int, int] = {measure_id: count for measure_id, count in session.execute(
        select(MeasurePartner.measure_id, func.count())
        .join(Partner, Partner.id == MeasurePartner.partner_id)
        .where(Partner.active.is_(True)).group_by(MeasurePartner.measure_id))}
    reporting = {c: reporting_period(c, now, tz, initiative.fiscal_year_start) for c in CADENCES}
    history = {c: recent_periods(p, HISTORY_PERIODS) for c, p in reporting.items()}
    keys = sorted({p.key for ps in history.values() for p in ps})
    found = period_aggregates(session, measures, keys)

    changes = latest_changes(session, measures, history, found)

    lines = []
    for measure in measures:
        cadence = as_cadence(measure.cadence)
        periods = history[cadence]
        aggregates = [found.get((measure.id, p.key)) for p in periods]
        change = changes.get(measure.id)
        lines.append(MeasureLine(
            key=measure.key, name=measure.name, unit=measure.unit, direction=measure.direction,
            baseline=measure.baseline, target=measure.target, target_date=measure.target_date,
            cadence=cadence, periods=periods,
            values=[aggregate_value(a, measure.aggregate) for a in aggregates],
            reporting_period=reporting[cadence], reported=0, skipped=0,
            assigned=assigned.get(measure.id, 0), aggregate_rule=measure.aggregate,
            coverage=[a.count if a else 0 for a in aggregates],
            change=change.delta if change else None,
            change_partners=change.partners if change else 0))
    return lines
