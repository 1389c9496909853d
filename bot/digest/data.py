"""What the weekly digest says, read from the store in a fixed number of SQL statements.

Every query below is one statement whatever the number of partners, measures, reports or
wins: history is filtered in SQL to the periods the digest shows, and per-period aggregates
(sum, average, latest) are computed by the database with window functions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.initiative.importer import INITIATIVE_ID
from bot.measures.periods import (
    Cadence,
    Period,
    as_cadence,
    due_date,
    recent_periods,
    reporting_period,
)
from bot.measures.progress import Trend, progress_fraction, trend
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

# How many periods the sparkline and the chart show, per measure.
HISTORY_PERIODS = 12
# On-time reporting is judged over this many most recent periods whose due date has passed.
ON_TIME_PERIODS = 3
# A partner's data on a measure is fresh when it has a value for one of this many periods.
FRESH_PERIODS = 2
# Periods looked at for on-time and freshness: the reporting period and the ones before it.
_ENGAGEMENT_LOOKBACK = ON_TIME_PERIODS + 1


@dataclass(frozen=True)
class IsoWeek:
    key: str  # 2026-W46
    start: datetime  # Monday 00:00 in the initiative's time zone, as UTC
    end: datetime  # the next Monday 00:00
    monday: date  # the local date of that Monday


def iso_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The ISO week containing `now` in the initiative's time zone."""
    local = now.astimezone(tz).date()
    year, week, _ = local.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return IsoWeek(f"{year}-W{week:02d}", start.astimezone(UTC), end.astimezone(UTC), monday)


def digest_due(initiative: Initiative, now: datetime) -> datetime:
    """When this ISO week's digest is due: the digest weekday and time, local time."""
    tz = ZoneInfo(initiative.timezone)
    local = now.astimezone(tz).date()
    year, week, _ = local.isocalendar()
    day = date.fromisocalendar(year, week, initiative.digest_weekday + 1)
    hour, minute = (int(part) for part in initiative.digest_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


@dataclass(frozen=True)
class MeasureLine:
    """One shared measure: where the initiative stands and how it got there."""

    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float | None
    target_date: date | None
    cadence: Cadence
    periods: list[Period]  # the recent periods, oldest first (the sparkline's x axis)
    values: list[float | None]  # the aggregate for each of them; None where nobody reported
    reporting_period: Period  # the period partners are reporting now
    reported: int  # partners with a value for the reporting period
    skipped: int  # partners that skipped it, with a reason
    assigned: int

    @property
    def latest_index(self) -> int | None:
        known = [i for i, v in enumerate(self.values) if v is not None]
        return known[-1] if known else None

    @property
    def current(self) -> float | None:
        index = self.latest_index
        return None if index is None else self.values[index]

    @property
    def current_period(self) -> Period | None:
        index = self.latest_index
        return None if index is None else self.periods[index]

    @property
    def previous(self) -> float | None:
        index = self.latest_index
        if index is None:
            return None
        earlier = [v for v in self.values[:index] if v is not None]
        return earlier[-1] if earlier else None

    @property
    def progress(self) -> float | None:
        return progress_fraction(self.current, self.baseline, self.target)

    @property
    def trend(self) -> Trend:
        return trend(self.current, self.previous, self.direction)


@dataclass(frozen=True)
class Owed:
    measure_name: str
    period: Period
    due: date


@dataclass(frozen=True)
class Skipped:
    measure_name: str
    period: Period
    reason: str


@dataclass
class PartnerLine:
    """Reporting completeness of one partner for its measures' reporting periods."""

    key: str
    name: str
    reported: list[str] = field(default_factory=list)
    missing: list[Owed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return len(self.reported) + len(self.missing) + len(self.skipped)

    @property
    def status(self) -> str:
        """missing if anything is outstanding; else skipped if anything was skipped."""
        if self.missing:
            return "missing"
        return "skipped" if self.skipped else "reported"


@dataclass(frozen=True)
class WinLine:
    text: str
    permalink: str | None
    author_id: str
    partner_name: str | None
    posted_at: datetime
    posted_channel: str | None


@dataclass(frozen=True)
class CommitmentLine:
    partner_name: str
    resources: str
    data: str
    activities: str
    signed_agenda: bool
    signed_by: str
    signed_at: datetime


@dataclass(frozen=True)
class Engagement:
    """Clear Impact-style engagement: punctuality of owed reports and freshness of data."""

    owed: int  # reports owed for closed periods (skips excused)
    on_time: int  # of those, first reported by the due date
    assignments: int  # partner × measure pairs
    fresh: int  # of those, with a value for one of the last FRESH_PERIODS periods

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.owed if self.owed else None

    @property
    def freshness(self) -> float | None:
        return self.fresh / self.assignments if self.assignments else None

    @property
    def score(self) -> int | None:
        parts = [p for p in (self.on_time_share, self.freshness) if p is not None]
        return round(100 * sum(parts) / len(parts)) if parts else None


@dataclass(frozen=True)
class DigestData:
    initiative_name: str
    timezone: str
    backbone_channel: str | None
    wins_channel: str | None
    week: IsoWeek
    now: datetime
    partners: list[PartnerLine]
    measures: list[MeasureLine]
    wins: list[WinLine]
    commitments: list[CommitmentLine]
    voice_count: int
    engagement: Engagement

    @property
    def missing_partners(self) -> list[PartnerLine]:
        return [p for p in self.partners if p.status == "missing"]

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()



def build_digest(session: Session, now: datetime) -> DigestData | None:
    """The digest as of `now`, or None when no initiative has been imported."""
    initiative = session.get(Initiative, INITIATIVE_ID)
    if initiative is None:
        return None
    tz = ZoneInfo(initiative.timezone)
    week = iso_week(now, tz)

    partners = session.execute(
        select(Partner.id, Partner.key, Partner.name)
        .where(Partner.active.is_(True)).order_by(Partner.position, Partner.id)).all()
    measures = list(session.scalars(
        select(Measure).where(Measure.active.is_(True)).order_by(Measure.position, Measure.id)))
    partner_ids = {p.id for p in partners}
    assignments: dict[int, list[int]] = defaultdict(list)  # measure id -> partner ids
    for measure_id, partner_id in session.execute(
            select(MeasurePartner.measure_id, MeasurePartner.partner_id)):
        if partner_id in partner_ids:
            assignments[measure_id].append(partner_id)

    # The periods each cadence needs: its reporting period and the ones before it.
    reporting = {c: reporting_period(c, now, tz) for c in {as_cadence(m.cadence) for m in measures}}
    history = {c: recent_periods(p, HISTORY_PERIODS) for c, p in reporting.items()}
    lookback = {c: recent_periods(p, _ENGAGEMENT_LOOKBACK) for c, p in reporting.items()}
    measure_ids = [m.id for m in measures]

    aggregates = _aggregates(session, measure_ids,
                             sorted({p.key for ps in history.values() for p in ps}))
    lookback_keys = sorted({p.key for ps in lookback.values() for p in ps})
    first_reported = _first_reported(session, measure_ids, lookback_keys)
    skips = _skips(session, measure_ids, lookback_keys)

    partner_lines = {p.id: PartnerLine(p.key, p.name) for p in partners}
    measure_lines = []
    today = now.astimezone(tz).date()
    owed = on_time = fresh = pairs = 0
    for measure in measures:
        cadence = as_cadence(measure.cadence)
        current = reporting[cadence]
        periods = history[cadence]
        values = [_aggregate(aggregates.get((measure.id, p.key)), measure.aggregate)
                  for p in periods]
        reported_now = skipped_now = 0
        for partner_id in assignments.get(measure.id, []):
            line = partner_lines[partner_id]
            key = (measure.id, partner_id, current.key)
            if key in first_reported:
                line.reported.append(measure.name)
                reported_now += 1
            elif key in skips:
                line.skipped.append(Skipped(measure.name, current, skips[key]))
                skipped_now += 1
            else:
                line.missing.append(Owed(measure.name, current,
                                         due_date(current, initiative.reminder_day)))
            # Engagement: punctuality over the last closed periods, freshness over the
            # latest ones.
            pairs += 1
            recent = lookback[cadence][::-1]  # newest first
            if any((measure.id, partner_id, p.key) in first_reported
                   for p in recent[:FRESH_PERIODS]):
                fresh += 1
            closed = [p for p in recent
                      if due_date(p, initiative.reminder_day) < today][:ON_TIME_PERIODS]
            for period in closed:
                pkey = (measure.id, partner_id, period.key)
                if pkey in skips and pkey not in first_reported:
                    continue
                owed += 1
                first = first_reported.get(pkey)
                if first is not None and (first.astimezone(tz).date()
                                          <= due_date(period, initiative.reminder_day)):
                    on_time += 1
        measure_lines.append(MeasureLine(
            key=measure.key, name=measure.name, unit=measure.unit, direction=measure.direction,
            baseline=measure.baseline, target=measure.target, target_date=measure.target_date,
            cadence=cadence, periods=periods, values=values, reporting_period=current,
            reported=reported_now, skipped=skipped_now,
            assigned=len(assignments.get(measure.id, [])),
        ))

    until = min(week.end, now + timedelta(microseconds=1))
    wins = [WinLine(text, permalink, author, partner, posted_at or now, channel)
            for text, permalink, author, partner, posted_at, channel in session.execute(
                select(Win.text, Win.permalink, Win.author_id, Partner.name, Win.posted_at,
                       Win.posted_channel)
                .outerjoin(Partner, Partner.id == Win.partner_id)
                .where(Win.status == "posted", Win.posted_at >= week.start,
                       Win.posted_at < until)
                .order_by(Win.posted_at, Win.id))]
    commitments: dict[str, CommitmentLine] = {}
    for row, partner_name in session.execute(
            select(Commitment, Partner.name).join(Partner, Partner.id == Commitment.partner_id)
            .where(Commitment.signed_at >= week.start, Commitment.signed_at < until)
            .order_by(Commitment.signed_at, Commitment.id)):
        # A partner that re-committed during the week shows its latest commitment.
        commitments.pop(partner_name, None)
        commitments[partner_name] = CommitmentLine(
            partner_name, row.resources, row.data, row.activities, row.signed_agenda,
            row.signed_by, row.signed_at)
    voice_count = session.scalar(
        select(func.count(Voice.id)).where(Voice.created_at >= week.start,
                                           Voice.created_at < until)) or 0

    return DigestData(
        initiative_name=initiative.name, timezone=initiative.timezone,
        backbone_channel=initiative.backbone_channel, wins_channel=initiative.wins_channel,
        week=week, now=now,
        partners=[line for line in partner_lines.values() if line.assigned],
        measures=measure_lines, wins=wins, commitments=list(commitments.values()),
        voice_count=int(voice_count),
        engagement=Engagement(owed=owed, on_time=on_time, assignments=pairs, fresh=fresh),
    )


@dataclass(frozen=True)
class _PeriodAggregate:
    total: float
    count: int
    latest: float


def _aggregate(found: _PeriodAggregate | None, rule: str) -> float | None:
    """Apply the measure's rule; the same arithmetic as bot.measures.progress.aggregate."""
    if found is None or found.count == 0:
        return None
    if rule == "sum":
        return found.total
    if rule == "avg":
        return found.total / found.count
    if rule == "latest":
        return found.latest
    raise ValueError(f"unknown aggregate rule {rule!r}")


def _aggregates(session: Session, measure_ids: list[int], period_keys: list[str]
                ) -> dict[tuple[int, str], _PeriodAggregate]:
    """Sum, count and latest current value per (measure, period): one statement."""
    if not measure_ids or not period_keys:
        return {}
    partition = (Report.measure_id, Report.period)
    ranked = (
        select(
            Report.measure_id, Report.period, Report.value,
            func.row_number().over(
                partition_by=partition,
                order_by=(Report.reported_at.desc(), Report.partner_id.desc())).label("rank"),
            func.sum(Report.value).over(partition_by=partition).label("total"),
            func.count(Report.id).over(partition_by=partition).label("n"),
        )
        .where(Report.is_current.is_(True), Report.measure_id.in_(measure_ids),
               Report.period.in_(period_keys))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.measure_id, ranked.c.period, ranked.c.value, ranked.c.total,
               ranked.c.n).where(ranked.c.rank == 1))
    return {(measure_id, period): _PeriodAggregate(float(total), int(n), float(value))
            for measure_id, period, value, total, n in rows}


def _first_reported(session: Session, measure_ids: list[int], period_keys: list[str]
                    ) -> dict[tuple[int, int, str], datetime]:
    """When each partner first reported each measure for each period: one statement.

    Corrections add rows, so the earliest row is when the report first came in.
    """
    if not measure_ids or not period_keys:
        return {}
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period, func.min(Report.reported_at))
        .where(Report.measure_id.in_(measure_ids), Report.period.in_(period_keys))
        .group_by(Report.measure_id, Report.partner_id, Report.period))
    return {(m, p, period): first for m, p, period, first in rows}


def _skips(session: Session, measure_ids: list[int], period_keys: list[str]
           ) -> dict[tuple[int, int, str], str]:
    if not measure_ids or not period_keys:
        return {}
    rows = session.execute(
        select(Skip.measure_id, Skip.partner_id, Skip.period, Skip.reason)
        .where(Skip.measure_id.in_(measure_ids), Skip.period.in_(period_keys)))
    return {(m, p, period): reason for m, p, period, reason in rows}
