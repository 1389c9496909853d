"""What each partner still owes: measures without a current report or a skip for their
reporting period (the last complete period in the initiative's time zone)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from bot.measures.periods import Period, as_cadence, due_date, reporting_period
from storage.kinds import ObligationStatus
from storage.models import Initiative, Measure, MeasurePartner, Partner, Report, Skip


@dataclass(frozen=True)
class Obligation:
    """One report a partner owes (or has made) for one measure and period."""

    partner_id: int
    partner_key: str
    measure_id: int
    measure_key: str
    measure_name: str
    unit: str
    period: Period
    due: date
    status: ObligationStatus

    @property
    def owed(self) -> bool:
        return self.status == "owed"


def obligations(session: Session, initiative: Initiative, now: datetime,
                partner_ids: Iterable[int] | None = None) -> list[Obligation]:
    """Every (partner, measure) assignment with its reporting period at `now` and status.

    A fixed number of queries whatever the size of the initiative.
    """
    tz = ZoneInfo(initiative.timezone)
    query = (
        select(MeasurePartner.partner_id, Partner.key, Measure)
        .join(Measure, Measure.id == MeasurePartner.measure_id)
        .join(Partner, Partner.id == MeasurePartner.partner_id)
        .where(Measure.active.is_(True), Partner.active.is_(True))
        .order_by(Partner.position, Measure.position)
    )
    if partner_ids is not None:
        query = query.where(MeasurePartner.partner_id.in_(list(partner_ids)))
    rows = session.execute(query).all()
    if not rows:
        return []

    periods: dict[str, Period] = {}
    for cadence in {m.cadence for _, _, m in rows}:
        periods[cadence] = reporting_period(as_cadence(cadence), now, tz)
    keys = [(m.id, partner_id, periods[m.cadence].key) for partner_id, _, m in rows]

    reported = set(session.execute(
        select(Report.measure_id, Report.partner_id, Report.period).where(
            Report.is_current.is_(True),
            tuple_(Report.measure_id, Report.partner_id, Report.period).in_(keys),
        )).all())
    skipped = set(session.execute(
        select(Skip.measure_id, Skip.partner_id, Skip.period).where(
            tuple_(Skip.measure_id, Skip.partner_id, Skip.period).in_(keys),
        )).all())

    out = []
    for partner_id, partner_key, measure in rows:
        period = periods[measure.cadence]
        key = (measure.id, partner_id, period.key)
        status: ObligationStatus = ("reported" if key in reported else
                                    "skipped" if key in skipped else "owed")
        out.append(Obligation(
            partner_id=partner_id,
            partner_key=partner_key,
            measure_id=measure.id,
            measure_key=measure.key,
            measure_name=measure.name,
            unit=measure.unit,
            period=period,
            due=due_date(period, initiative.reminder_day),
            status=status,
        ))
    return out

