"""Each measure's current reports summed per period (`report_totals`), kept beside the
reports in the same transaction as every write to them.

The digest, the public scorecard and the forecasts read a row per measure and period from
here instead of adding up a row per partner: 1,500 rows instead of 200,000 for a digest
of 100 measures × 200 partners. `refresh` works a total out again from the reports
themselves (never by adding a difference, so nothing drifts). The tenant session calls it
after every flush that wrote a report (storage/db.py): whoever adds a `Report` keeps its
total. Writers that mark a report not current do so beside the new row of the same
measure and period, so the new rows name every total to refresh. Bulk loads that insert
reports with Core statements call `rebuild` afterwards.

Concurrency (PostgreSQL, READ COMMITTED): each total is made to exist, then locked
(`FOR UPDATE`, in key order so two writers cannot deadlock), and only then summed, by a
statement that therefore sees every report committed by a writer that held the lock
before. SQLite has one writer at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Report, ReportTotal
from storage.tenancy import TEAM_KEY

Key = tuple[int, str]  # (measure id, period key)
_KEY = ["team_id", "measure_id", "period"]


_WRITTEN = "impactbot_reports_written"


def note_written(info: dict[str, Any], instances: Iterable[object]) -> None:
    """Remember the (measure, period) of every report among a flush's `instances`."""
    keys = {(i.measure_id, i.period) for i in instances if isinstance(i, Report)}
    if keys:
        info.setdefault(_WRITTEN, set()).update(keys)


def take_written(info: dict[str, Any]) -> set[Key]:
    written: set[Key] = info.pop(_WRITTEN, set())
    return written


def refresh(session: Session, keys: Iterable[Key]) -> None:
    """Work the totals of `keys` out again from the current reports (as flushed)."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    dialect = postgresql if postgres else sqlite
    for measure_id, period in wanted:
        session.execute(dialect.insert(ReportTotal)
                        .values(measure_id=measure_id, period=period, reports=0, total=0.0,
                                numerators=0.0, denominators=0.0)
                        .on_conflict_do_nothing(index_elements=_KEY))
    by_measure: dict[int, list[str]] = defaultdict(list)
    for measure_id, period in wanted:
        by_measure[measure_id].append(period)
    for measure_id, periods in by_measure.items():
        if postgres:
            session.execute(select(ReportTotal.period)
                            .where(ReportTotal.measure_id == measure_id,
                                   ReportTotal.period.in_(periods))
                            .order_by(ReportTotal.period).with_for_update())
        for period, summed in _summed(session, measure_id, periods).items():
            session.execute(update(ReportTotal)
                            .where(ReportTotal.measure_id == measure_id,
                                   ReportTotal.period == period)
                            .values(**summed.columns()))


def rebuild(session: Session) -> None:
    """Every total of the session's workspace, from its reports, in three set-wise
    statements (after a bulk load that wrote reports without `refresh`; migration 0020
    does the same for every workspace). Core statements on the session's connection, so
    the workspace is named explicitly in each."""
    team = str(session.info[TEAM_KEY])
    totals, reports = cast(Table, ReportTotal.__table__), cast(Table, Report.__table__)
    connection = session.connection()
    connection.execute(delete(totals).where(totals.c.team_id == team))
    current = (reports.c.team_id == team, reports.c.is_current.is_(True))
    connection.execute(insert(totals).from_select(
        ["team_id", "measure_id", "period", "reports", "total", "numerators", "denominators"],
        select(reports.c.team_id, reports.c.measure_id, reports.c.period, func.count(),
               func.sum(reports.c.value), func.coalesce(func.sum(reports.c.numerator), 0.0),
               func.coalesce(func.sum(reports.c.denominator), 0.0))
        .where(*current).group_by(reports.c.team_id, reports.c.measure_id, reports.c.period)))
    ranked = (select(reports.c.measure_id, reports.c.period, reports.c.value,
                     func.row_number().over(
                         partition_by=(reports.c.measure_id, reports.c.period),
                         order_by=(reports.c.reported_at.desc(), reports.c.partner_id.desc())
                     ).label("rank"))
              .where(*current).subquery())
    connection.execute(update(totals).values(latest_value=ranked.c.value).where(
        ranked.c.rank == 1, totals.c.team_id == team,
        totals.c.measure_id == ranked.c.measure_id, totals.c.period == ranked.c.period))


@dataclass
class _Sum:
    reports: int = 0
    total: float = 0.0
    numerators: float = 0.0  # as SQL sums them: reports without one add nothing
    denominators: float = 0.0
    latest_value: float | None = None
    newest: tuple[datetime, int] | None = None  # (reported_at, partner id) of latest_value

    def add(self, partner_id: int, value: float, num: float | None, den: float | None,
            at: datetime) -> None:
        self.reports += 1
        self.total += value
        self.numerators += num or 0.0
        self.denominators += den or 0.0
        if self.newest is None or (at, partner_id) > self.newest:
            self.newest, self.latest_value = (at, partner_id), value

    def columns(self) -> dict[str, object]:
        return {"reports": self.reports, "total": self.total, "numerators": self.numerators,
                "denominators": self.denominators, "latest_value": self.latest_value}


def _summed(session: Session, measure_id: int, periods: list[str]) -> dict[str, _Sum]:
    """Each period's total (an empty one when no current report is left)."""
    out = {period: _Sum() for period in periods}
    for period, partner_id, value, num, den, at in session.execute(
            select(Report.period, Report.partner_id, Report.value, Report.numerator,
                   Report.denominator, Report.reported_at)
            .where(Report.is_current.is_(True), Report.measure_id == measure_id,
                   Report.period.in_(periods))):
        out[period].add(partner_id, value, num, den, at)
    return out


def read(session: Session, measure_ids: list[int], period_keys: list[str]
         ) -> Sequence[Row[int, str, int, float, float, float, float | None]]:
    """(measure, period, reports, Σ values, Σ numerators, Σ denominators, latest value) of
    every period with a current report: one statement."""
    if not measure_ids or not period_keys:
        return []
    return session.execute(
        select(ReportTotal.measure_id, ReportTotal.period, ReportTotal.reports,
               ReportTotal.total, ReportTotal.numerators, ReportTotal.denominators,
               ReportTotal.latest_value)
        .where(ReportTotal.measure_id.in_(measure_ids), ReportTotal.period.in_(period_keys),
               ReportTotal.reports > 0)).all()
