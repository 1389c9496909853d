"""What each partner still owes: measures without a current report or a skip for their
reporting period (the last complete period in the initiative's time zone)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bot.measures.periods import (
    CADENCES,
    Period,
    as_cadence,
    due_date,
    due_from_start,
    reporting_period,
)
from storage.kinds import Cadence, ObligationStatus
from storage.models import Initiative, Measure, MeasurePartner, Partner, Report, Skip

# "The report is current", written exactly as the partial unique index on reports
# (`uq_reports_current`) says it: SQLite uses a partial index only for a term identical to
# the index's WHERE, and `is_current = 1` would send each look-up through every partner's
# report for the measure and period instead of the one row.
_CURRENT: ColumnElement[bool] = literal_column(f"{Report.__tablename__}.is_current")


class Obligation(NamedTuple):
    """One report a partner owes (or has made) for one measure and period.

    (A named tuple: an initiative has tens of thousands, and a tuple is the cheapest
    immutable record to build.)"""

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

    Three queries whose SQL has the same shape whatever the size of the initiative: each
    assignment's period comes from a four-row table (one row per cadence the code knows)
    joined on its measure's cadence, and its current report and its skip are outer joins
    on their keys (`_assignments`) — no list of keys that grows with the data.
    """
    periods = _periods(initiative, now)
    # What every row of a measure or a partner shares, once each (a fixed number of rows
    # per measure and partner, not per assignment).
    # Every screen shows one due date: in a new initiative, never before a week after its
    # start (SPEC §9).
    dues = {cadence: due_from_start(due_date(p, initiative.reminder_day), initiative.start)
            for cadence, p in periods.items()}
    measures = {
        measure_id: (key, name, unit, periods[as_cadence(cadence)], dues[as_cadence(cadence)])
        for measure_id, key, name, unit, cadence in session.execute(
            select(Measure.id, Measure.key, Measure.name, Measure.unit, Measure.cadence)
            .where(Measure.active.is_(True)))}
    partners = dict(session.execute(select(Partner.id, Partner.key)
                                    .where(Partner.active.is_(True))).all())
    query = _assignments(session, periods).order_by(
        Partner.position, Partner.id, Measure.position, Measure.id)
    if partner_ids is not None:
        # The caller's own partner (one id), never a list built from the data.
        query = query.where(MeasurePartner.partner_id.in_(list(partner_ids)))
    return [Obligation(partner_id, partners[partner_id], measure_id, *measures[measure_id],
                       "reported" if reported else "skipped" if skipped else "owed")
            for partner_id, measure_id, reported, skipped in session.execute(query)]


def owing_partners(session: Session, initiative: Initiative, now: datetime) -> Select[int]:
    """The ids of active partners that owe at least one report at `now`, as a subquery
    (`Member.partner_id.in_(owing_partners(...))`): the same rule as `obligations`."""
    a = _assignments(session, _periods(initiative, now)).subquery("assignments")
    owed = case((and_(~a.c.reported, ~a.c.skipped), 1), else_=0)
    # Grouped, not filtered: PostgreSQL estimates "neither reported nor skipped" (two
    # anti-joins) at one row and plans the caller's IN as a nested loop over every
    # member; grouped by partner it expects one row per partner and hashes them.
    return select(a.c.partner_id).group_by(a.c.partner_id).having(func.max(owed) == 1)


def _periods(initiative: Initiative, now: datetime) -> dict[Cadence, Period]:
    tz = ZoneInfo(initiative.timezone)
    return {cadence: reporting_period(cadence, now, tz, initiative.fiscal_year_start)
            for cadence in CADENCES}


def _assignments(session: Session, periods: dict[Cadence, Period]
                 ) -> Select[int, int, bool, bool]:
    """Active (partner, measure) assignments with "reported" and "skipped" for the
    measure's reporting period. Each plan is the one its database runs well:

    - PostgreSQL: the current reports and skips of each measure's period are found by
      index per measure (`ix_reports_figures`), then hash-joined to the
      assignments, so the cost follows this period's reports, not the history (PostgreSQL
      does not probe the four-column unique index with a period taken from another table);
    - SQLite: each assignment probes the unique keys (`uq_reports_current`, skips' unique
      key): SQLite does not index a joined subquery of reports on its own.
    """
    current = _current_periods(periods)
    base = (
        select(MeasurePartner.partner_id, MeasurePartner.measure_id)
        .join(Measure, Measure.id == MeasurePartner.measure_id)
        .join(Partner, Partner.id == MeasurePartner.partner_id)
        .join(current, current.c.measure_id == MeasurePartner.measure_id)
        .where(Partner.active.is_(True))
    )
    if session.get_bind().dialect.name == "sqlite":
        return (
            base.outerjoin(Report, and_(Report.measure_id == MeasurePartner.measure_id,
                                        Report.partner_id == MeasurePartner.partner_id,
                                        Report.period == current.c.period, _CURRENT))
            .outerjoin(Skip, and_(Skip.measure_id == MeasurePartner.measure_id,
                                  Skip.partner_id == MeasurePartner.partner_id,
                                  Skip.period == current.c.period))
            .add_columns(Report.id.is_not(None).label("reported"),
                         Skip.id.is_not(None).label("skipped")))
    reported = (select(Report.measure_id, Report.partner_id)
                .join(current, and_(current.c.measure_id == Report.measure_id,
                                    current.c.period == Report.period))
                .where(_CURRENT).subquery("reported"))
    skipped = (select(Skip.measure_id, Skip.partner_id)
               .join(current, and_(current.c.measure_id == Skip.measure_id,
                                   current.c.period == Skip.period))
               .subquery("skipped"))
    return (
        base.outerjoin(reported, and_(reported.c.measure_id == MeasurePartner.measure_id,
                                      reported.c.partner_id == MeasurePartner.partner_id))
        .outerjoin(skipped, and_(skipped.c.measure_id == MeasurePartner.measure_id,
                                 skipped.c.partner_id == MeasurePartner.partner_id))
        .add_columns(reported.c.measure_id.is_not(None).label("reported"),
                     skipped.c.measure_id.is_not(None).label("skipped")))


def _current_periods(periods: dict[Cadence, Period]) -> CTE:
    """(measure id, reporting period key) of every active measure. The periods are a
    four-row table, one row per cadence the code knows, so the statement's shape never
    depends on the data."""
    rows = [select(literal(cadence, String).label("cadence"),
                   literal(period.key, String).label("period"))
            for cadence, period in periods.items()]
    reporting = union_all(*rows).subquery("reporting_periods")
    return (select(Measure.id.label("measure_id"), reporting.c.period)
            .join(reporting, reporting.c.cadence == Measure.cadence)
            .where(Measure.active.is_(True))
            .cte("current_periods"))
