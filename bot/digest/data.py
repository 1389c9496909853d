"""What the weekly digest says, read from the store in a fixed number of SQL statements.

Every query below is one statement whatever the number of partners, measures, reports or
wins: history is filtered in SQL to the periods the digest shows, and per-period aggregates
(sum, average, latest) are computed by the database with window functions. The values it
fills in are in `content.py`; the week's timing rules in `week.py`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.actions.store import action_lines
from bot.digest.content import (
    FRESH_PERIODS,
    HISTORY_PERIODS,
    ON_TIME_PERIODS,
    CommitmentLine,
    DigestData,
    Engagement,
    MeasureLine,
    Owed,
    PartnerLine,
    PeriodAggregate,
    Skipped,
    WinLine,
    aggregate_value,
)
from bot.digest.week import IsoWeek, digest_due, iso_week
from bot.measures.periods import (
    CADENCES,
    Period,
    as_cadence,
    due_date,
    due_from_start,
    owed_since_start,
    recent_periods,
    reporting_period,
)
from bot.measures.progress import Change, PartnerValue, like_for_like
from bot.runtime.caller import load_initiative
from storage.models import (
    Commitment,
    Measure,
    MeasurePartner,
    Partner,
    Report,
    Skip,
    Voice,
    Win,
)

# The digest's values and week rules are importable from here too, beside build_digest.
__all__ = ["DigestData", "IsoWeek", "MeasureLine", "PartnerLine", "build_digest",
           "digest_due", "iso_week"]

# Periods looked at for on-time and freshness: the reporting period and the ones before it.
_ENGAGEMENT_LOOKBACK = ON_TIME_PERIODS + 1


def build_digest(session: Session, now: datetime) -> DigestData | None:
    """The digest as of `now`, or None when no initiative has been imported."""
    initiative = load_initiative(session)
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
    # (Every cadence the code knows, so that the statements below keep their shape.)
    reporting = {c: reporting_period(c, now, tz) for c in CADENCES}
    history = {c: recent_periods(p, HISTORY_PERIODS) for c, p in reporting.items()}
    lookback = {c: recent_periods(p, _ENGAGEMENT_LOOKBACK) for c, p in reporting.items()}
    aggregates = _aggregates(session, sorted({p.key for ps in history.values() for p in ps}))
    lookback_keys = sorted({p.key for ps in lookback.values() for p in ps})
    first_reported = _first_reported(session, lookback_keys)
    skips = _skips(session, lookback_keys)

    # The latest period with a value for each measure, and the one before it.
    latest: dict[int, tuple[str, str]] = {}
    for measure in measures:
        periods = history[as_cadence(measure.cadence)]
        index = next((i for i in range(len(periods) - 1, 0, -1)
                      if (measure.id, periods[i].key) in aggregates), None)
        if index is not None:
            latest[measure.id] = (periods[index].key, periods[index - 1].key)
    changes = _like_for_like(session, measures, latest)

    partner_lines = {p.id: PartnerLine(p.key, p.name) for p in partners}
    measure_lines = []
    today = now.astimezone(tz).date()
    start = initiative.start

    def due(period: Period) -> date:
        return due_from_start(due_date(period, initiative.reminder_day), start)

    owed = on_time = fresh = pairs = 0
    for measure in measures:
        cadence = as_cadence(measure.cadence)
        current = reporting[cadence]
        periods = history[cadence]
        values = [aggregate_value(aggregates.get((measure.id, p.key)), measure.aggregate)
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
                line.missing.append(Owed(measure.name, current, due(current)))
            # Engagement: punctuality over the last closed periods, freshness over the
            # latest ones; only periods owed since the initiative started, once due.
            recent = lookback[cadence][::-1]  # newest first
            has_fresh = any((measure.id, partner_id, p.key) in first_reported
                            for p in recent[:FRESH_PERIODS])
            if has_fresh or any(owed_since_start(p, start) and due(p) < today
                                for p in recent[:FRESH_PERIODS]):
                pairs += 1
                fresh += has_fresh
            closed = [p for p in recent
                      if owed_since_start(p, start) and due(p) < today][:ON_TIME_PERIODS]
            for period in closed:
                pkey = (measure.id, partner_id, period.key)
                if pkey in skips and pkey not in first_reported:
                    continue
                owed += 1
                first = first_reported.get(pkey)
                if first is not None and first.astimezone(tz).date() <= due(period):
                    on_time += 1
        measure_lines.append(MeasureLine(
            key=measure.key, name=measure.name, unit=measure.unit, direction=measure.direction,
            baseline=measure.baseline, target=measure.target, target_date=measure.target_date,
            cadence=cadence, periods=periods, values=values, reporting_period=current,
            reported=reported_now, skipped=skipped_now,
            assigned=len(assignments.get(measure.id, [])),
            aggregate_rule=measure.aggregate,
            coverage=[found.count if (found := aggregates.get((measure.id, p.key))) else 0
                      for p in periods],
            change=changes[measure.id].delta if measure.id in changes else None,
            change_partners=changes[measure.id].partners if measure.id in changes else 0,
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
        initiative_start=start,
        actions=action_lines(session, week.start, week.end, week.monday,
                             now.astimezone(tz).date()),
    )


def _active_measures() -> Select[int]:
    """The active measures' ids, as a subquery: a statement's shape never depends on how
    many measures there are."""
    return select(Measure.id).where(Measure.active.is_(True))


def _aggregates(session: Session, period_keys: list[str]
                ) -> dict[tuple[int, str], PeriodAggregate]:
    """Sum, count and latest current value per (active measure, period): one statement."""
    partition = (Report.measure_id, Report.period)
    ranked = (
        select(
            Report.measure_id, Report.period, Report.value,
            func.row_number().over(
                partition_by=partition,
                order_by=(Report.reported_at.desc(), Report.partner_id.desc())).label("rank"),
            func.sum(Report.value).over(partition_by=partition).label("total"),
            func.count(Report.id).over(partition_by=partition).label("n"),
            func.sum(Report.numerator).over(partition_by=partition).label("nums"),
            func.sum(Report.denominator).over(partition_by=partition).label("dens"),
        )
        .where(Report.is_current.is_(True), Report.measure_id.in_(_active_measures()),
               Report.period.in_(period_keys))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.measure_id, ranked.c.period, ranked.c.value, ranked.c.total,
               ranked.c.n, ranked.c.nums, ranked.c.dens).where(ranked.c.rank == 1))
    return {(measure_id, period): PeriodAggregate(float(total), int(n), float(value),
                                                  float(nums or 0), float(dens or 0))
            for measure_id, period, value, total, n, nums, dens in rows}


def _like_for_like(session: Session, measures: list[Measure],
                   latest: dict[int, tuple[str, str]]) -> dict[int, Change]:
    """Each measure's change from the period before its latest one with a value, over the
    partners that reported in both: one statement for the two periods of every measure."""
    if not latest:
        return {}
    keys = sorted({k for pair in latest.values() for k in pair})
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period, Report.value,
               Report.reported_at, Report.numerator, Report.denominator)
        .where(Report.is_current.is_(True), Report.measure_id.in_(latest),
               Report.period.in_(keys)))
    found: dict[tuple[int, str], list[PartnerValue]] = defaultdict(list)
    for measure_id, partner_id, period, value, reported_at, num, den in rows:
        if period in latest[measure_id]:
            found[(measure_id, period)].append(
                PartnerValue(partner_id, value, reported_at, num, den))
    rules = {m.id: m.aggregate for m in measures}
    return {measure_id: like_for_like(found[(measure_id, now)], found[(measure_id, before)],
                                      rules[measure_id])
            for measure_id, (now, before) in latest.items()}


def _first_reported(session: Session, period_keys: list[str]
                    ) -> dict[tuple[int, int, str], datetime]:
    """When each partner first reported each measure for each period: one statement.

    Corrections add rows, so the earliest row is when the report first came in.
    """
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period, func.min(Report.reported_at))
        .where(Report.measure_id.in_(_active_measures()), Report.period.in_(period_keys))
        .group_by(Report.measure_id, Report.partner_id, Report.period))
    return {(m, p, period): first for m, p, period, first in rows}


def _skips(session: Session, period_keys: list[str]) -> dict[tuple[int, int, str], str]:
    rows = session.execute(
        select(Skip.measure_id, Skip.partner_id, Skip.period, Skip.reason)
        .where(Skip.measure_id.in_(_active_measures()), Skip.period.in_(period_keys)))
    return {(m, p, period): reason for m, p, period, reason in rows}
