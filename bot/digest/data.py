"""What the weekly digest says, read from the store in a fixed number of SQL statements.

Every query below is one statement whatever the number of partners, measures, reports or
wins: history is filtered in SQL to the periods the digest shows, and per-period aggregates
(sum, average, latest) are computed by the database with window functions. The values it
fills in are in `content.py`; the week's timing rules in `week.py`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from bot.actions.store import action_lines
from bot.connect.intros import digest_count_columns
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
from bot.digest.rba import rba_lines
from bot.digest.week import IsoWeek, digest_due, iso_week
from bot.measures.periods import (
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
from storage.types import UTCDateTime

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
    reporting = {c: reporting_period(c, now, tz, initiative.fiscal_year_start)
                 for c in {as_cadence(m.cadence) for m in measures}}
    history = {c: recent_periods(p, HISTORY_PERIODS) for c, p in reporting.items()}
    lookback = {c: recent_periods(p, _ENGAGEMENT_LOOKBACK) for c, p in reporting.items()}
    measure_ids = [m.id for m in measures]

    aggregates = _aggregates(session, measures,
                             sorted({p.key for ps in history.values() for p in ps}))
    lookback_keys = sorted({p.key for ps in lookback.values() for p in ps})
    skips = _skips(session, measure_ids, lookback_keys)

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

    dues: dict[Period, date] = {}

    def due(period: Period) -> date:
        # Per period, not per partner: the same few periods are asked about 10,000s of times.
        found = dues.get(period)
        if found is None:
            found = dues[period] = due_from_start(due_date(period, initiative.reminder_day),
                                                  start)
        return found

    # When each looked-back period's due day ends, as an instant: reported before it is on time.
    cutoffs = {p.key: datetime.combine(due(p) + timedelta(days=1), time(0), tzinfo=tz)
               for ps in lookback.values() for p in ps}
    first_reported = _reported(session, measure_ids, cutoffs)
    # What depends only on the cadence, worked out once (not per partner and measure).
    recents = {c: ps[::-1] for c, ps in lookback.items()}  # newest first
    fresh_due = {c: any(owed_since_start(p, start) and due(p) < today
                        for p in ps[:FRESH_PERIODS]) for c, ps in recents.items()}
    closed_periods = {c: [p for p in ps if owed_since_start(p, start)
                          and due(p) < today][:ON_TIME_PERIODS] for c, ps in recents.items()}
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
            has_fresh = any((measure.id, partner_id, p.key) in first_reported
                            for p in recents[cadence][:FRESH_PERIODS])
            if has_fresh or fresh_due[cadence]:
                pairs += 1
                fresh += has_fresh
            for period in closed_periods[cadence]:
                pkey = (measure.id, partner_id, period.key)
                first = first_reported.get(pkey)  # True: first reported by its due date
                if first is None and pkey in skips:
                    continue
                owed += 1
                on_time += bool(first)
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
    wins = [WinLine(text, permalink, author, partner, posted_at or now, channel, measure)
            for text, permalink, author, partner, posted_at, channel, measure in session.execute(
                select(Win.text, Win.permalink, Win.author_id, Partner.name, Win.posted_at,
                       Win.posted_channel, Measure.name)
                .outerjoin(Partner, Partner.id == Win.partner_id)
                .outerjoin(Measure, Measure.id == Win.measure_id)
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
    # The week's counts in one statement: approved community voice, intros (SPEC §12).
    voice_count, *intros = session.execute(select(
        select(func.count(Voice.id)).where(Voice.status == "approved",
                                           Voice.counted_at >= week.start,
                                           Voice.counted_at < until).scalar_subquery(),
        *digest_count_columns(week.start, until))).one()

    return DigestData(
        initiative_name=initiative.name, timezone=initiative.timezone,
        backbone_channel=initiative.backbone_channel, wins_channel=initiative.wins_channel,
        week=week, now=now,
        partners=[line for line in partner_lines.values() if line.assigned],
        measures=measure_lines, wins=wins, commitments=list(commitments.values()),
        voice_count=int(voice_count or 0),
        engagement=Engagement(owed=owed, on_time=on_time, assignments=pairs, fresh=fresh),
        initiative_start=start, intros=(int(intros[0] or 0), int(intros[1] or 0),
                                         int(intros[2] or 0)),
        rba=rba_lines(session, initiative, measure_lines, measures),
        actions=action_lines(session, week.start, week.end, week.monday,
                             now.astimezone(tz).date()),
    )


def _aggregates(session: Session, measures: list[Measure], period_keys: list[str]
                ) -> dict[tuple[int, str], PeriodAggregate]:
    """Sum, count, Σ numerators and Σ denominators per (measure, period) in one grouped
    statement; the latest value (a window over reports) only for `latest` measures."""
    measure_ids = [m.id for m in measures]
    if not measure_ids or not period_keys:
        return {}
    rows = session.execute(
        select(Report.measure_id, Report.period, func.sum(Report.value),
               func.count(Report.id), func.sum(Report.numerator), func.sum(Report.denominator))
        .where(Report.is_current.is_(True), Report.measure_id.in_(measure_ids),
               Report.period.in_(period_keys))
        .group_by(Report.measure_id, Report.period))
    latest = _latest_values(session, [m.id for m in measures if m.aggregate == "latest"],
                            period_keys)
    return {(measure_id, period): PeriodAggregate(float(total), int(n),
                                                  latest.get((measure_id, period), 0.0),
                                                  float(nums or 0), float(dens or 0))
            for measure_id, period, total, n, nums, dens in rows}


def _latest_values(session: Session, measure_ids: list[int], period_keys: list[str]
                   ) -> dict[tuple[int, str], float]:
    """The most recently reported current value per (measure, period): one statement."""
    if not measure_ids:
        return {}
    partition = (Report.measure_id, Report.period)
    ranked = (
        select(Report.measure_id, Report.period, Report.value,
               func.row_number().over(
                   partition_by=partition,
                   order_by=(Report.reported_at.desc(), Report.partner_id.desc())).label("rank"))
        .where(Report.is_current.is_(True), Report.measure_id.in_(measure_ids),
               Report.period.in_(period_keys))
        .subquery())
    return {(m, period): float(value) for m, period, value in session.execute(
        select(ranked.c.measure_id, ranked.c.period, ranked.c.value)
        .where(ranked.c.rank == 1))}


def _like_for_like(session: Session, measures: list[Measure],
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


def _reported(session: Session, measure_ids: list[int], cutoffs: dict[str, datetime]
              ) -> dict[tuple[int, int, str], bool]:
    """For each partner, measure and period (of `cutoffs`) with a report: whether it first
    came in before the period's cutoff (the end of its due day). One statement; the
    comparison is made by the database, so no timestamps travel back.

    Corrections add rows, so the earliest row is when the report first came in.
    """
    if not measure_ids or not cutoffs:
        return {}
    cutoff = case(*[(Report.period == key, literal(at, UTCDateTime()))
                    for key, at in cutoffs.items()])
    rows = session.execute(
        select(Report.measure_id, Report.partner_id, Report.period,
               case((func.min(Report.reported_at) < cutoff, 1), else_=0))
        .where(Report.measure_id.in_(measure_ids), Report.period.in_(sorted(cutoffs)))
        .group_by(Report.measure_id, Report.partner_id, Report.period))
    return {(m, p, period): bool(on_time) for m, p, period, on_time in rows}


def _skips(session: Session, measure_ids: list[int], period_keys: list[str]
           ) -> dict[tuple[int, int, str], str]:
    if not measure_ids or not period_keys:
        return {}
    rows = session.execute(
        select(Skip.measure_id, Skip.partner_id, Skip.period, Skip.reason)
        .where(Skip.measure_id.in_(measure_ids), Skip.period.in_(period_keys)))
    return {(m, p, period): reason for m, p, period, reason in rows}
