"""What each partner still owes: measures without a current report or a skip for their
reporting period (the last complete period in the initiative's time zone)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, Select, case, exists, literal, select
from sqlalchemy.orm import Session

from bot.measures.periods import CADENCES, Period, as_cadence, due_date, reporting_period
from storage.kinds import Cadence, ObligationStatus
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

    One query whose SQL has the same shape whatever the size of the initiative: each
    assignment's period is chosen by its measure's cadence in SQL (one CASE branch per
    cadence the code knows), and "reported" / "skipped" are correlated EXISTS on the
    unique keys of `reports` and `skips` — no list of keys that grows with the data.
    """
    periods = _periods(initiative, now)
    reported, skipped = _settled(periods)
    query = (
        select(MeasurePartner.partner_id, Partner.key.label("partner_key"),
               MeasurePartner.measure_id, Measure.key.label("measure_key"),
               Measure.name.label("measure_name"), Measure.unit, Measure.cadence,
               reported.label("reported"), skipped.label("skipped"))
        .join(Measure, Measure.id == MeasurePartner.measure_id)
        .join(Partner, Partner.id == MeasurePartner.partner_id)
        .where(Measure.active.is_(True), Partner.active.is_(True))
        .order_by(Partner.position, Partner.id, Measure.position, Measure.id)
    )
    if partner_ids is not None:
        # The caller's own partner (one id), never a list built from the data.
        query = query.where(MeasurePartner.partner_id.in_(list(partner_ids)))

    dues = {cadence: due_date(p, initiative.reminder_day) for cadence, p in periods.items()}
    out = []
    for row in session.execute(query):
        cadence = as_cadence(row.cadence)
        status: ObligationStatus = ("reported" if row.reported else
                                    "skipped" if row.skipped else "owed")
        out.append(Obligation(
            partner_id=row.partner_id,
            partner_key=row.partner_key,
            measure_id=row.measure_id,
            measure_key=row.measure_key,
            measure_name=row.measure_name,
            unit=row.unit,
            period=periods[cadence],
            due=dues[cadence],
            status=status,
        ))
    return out


def owing_partners(initiative: Initiative, now: datetime) -> Select[int]:
    """The ids of active partners that owe at least one report at `now`, as a subquery
    (`Member.partner_id.in_(owing_partners(...))`): the same rule as `obligations`."""
    reported, skipped = _settled(_periods(initiative, now))
    return (
        select(MeasurePartner.partner_id)
        .join(Measure, Measure.id == MeasurePartner.measure_id)
        .join(Partner, Partner.id == MeasurePartner.partner_id)
        .where(Measure.active.is_(True), Partner.active.is_(True), ~reported, ~skipped)
    )


def _periods(initiative: Initiative, now: datetime) -> dict[Cadence, Period]:
    tz = ZoneInfo(initiative.timezone)
    return {cadence: reporting_period(cadence, now, tz) for cadence in CADENCES}


def _settled(periods: dict[Cadence, Period]) -> tuple[Exists, Exists]:
    """Correlated EXISTS for "a current report" and "a skip" of the outer query's
    assignment (`measure_partners` joined to `measures`) for its reporting period."""
    period_key = _period_of(periods)
    reported = exists().where(
        Report.measure_id == MeasurePartner.measure_id,
        Report.partner_id == MeasurePartner.partner_id,
        Report.period == period_key,
        Report.is_current.is_(True))
    skipped = exists().where(
        Skip.measure_id == MeasurePartner.measure_id,
        Skip.partner_id == MeasurePartner.partner_id,
        Skip.period == period_key)
    return reported, skipped


def _period_of(periods: dict[Cadence, Period]) -> ColumnElement[str]:
    """SQL for the reporting period key of the assignment's measure, by its cadence."""
    return case(*((Measure.cadence == cadence, literal(p.key)) for cadence, p in
                  periods.items()), else_=literal(None))
