"""What the weekly digest says, read from the store in a fixed number of SQL statements.

Every query below is one statement whatever the number of partners, measures, reports or
wins: history is filtered in SQL to the periods the digest shows, and per-period aggregates
(sum, average, latest) are computed by the database with window functions. The values it
fills in are in `content.py`; the week's timing rules in `week.py`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, literal, select
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
    Skipped,
    WinLine,
    aggregate_value,
)
from bot.digest.figures import latest_changes, period_aggregates
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
# What a partner did for a looked-back period: nothing, reported late, reported on time.
_NONE, _LATE, _ON_TIME = 0, 1, 2


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

    aggregates = period_aggregates(session, measures,
                                   sorted({p.key for ps in history.values() for p in ps}))
    changes = latest_changes(session, measures, history, aggregates)

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

    # What depends only on the cadence, worked out once (not per partner and measure).
    recents = {c: ps[::-1] for c, ps in lookback.items()}  # newest first; [0] is reporting
    # When each looked-back period's due day ends, as an instant: reported before it is on
    # time. Per position (0: the reporting period, 1: the one before, …) for every cadence.
    cutoffs = [{ps[i].key: datetime.combine(due(ps[i]) + timedelta(days=1), time(0), tzinfo=tz)
                for ps in recents.values()} for i in range(_ENGAGEMENT_LOOKBACK)]
    reported, skips = _reported_and_skipped(session, measure_ids, cutoffs)
    fresh_due = {c: any(owed_since_start(p, start) and due(p) < today
                        for p in ps[:FRESH_PERIODS]) for c, ps in recents.items()}
    # Positions and keys, not periods, in the loop below: it runs per partner and measure.
    closed_positions = {c: [(i, p.key) for i, p in enumerate(ps) if owed_since_start(p, start)
                            and due(p) < today][:ON_TIME_PERIODS] for c, ps in recents.items()}
    never = (_NONE,) * _ENGAGEMENT_LOOKBACK
    owed = on_time = fresh = pairs = 0
    for measure in measures:
        cadence = as_cadence(measure.cadence)
        current = reporting[cadence]
        periods = history[cadence]
        values = [aggregate_value(aggregates.get((measure.id, p.key)), measure.aggregate)
                  for p in periods]
        reported_now = skipped_now = 0
        current_key, closed = current.key, closed_positions[cadence]
        for partner_id in assignments.get(measure.id, []):
            line = partner_lines[partner_id]
            flags = reported.get((measure.id, partner_id), never)
            if flags[0] != _NONE:
                line.reported.append(measure.name)
                reported_now += 1
            elif (skip := skips.get((measure.id, partner_id, current_key))) is not None:
                line.skipped.append(Skipped(measure.name, current, skip))
                skipped_now += 1
            else:
                line.missing.append(Owed(measure.name, current, due(current)))
            # Engagement: punctuality over the last closed periods, freshness over the
            # latest ones; only periods owed since the initiative started, once due.
            has_fresh = any(flag != _NONE for flag in flags[:FRESH_PERIODS])
            if has_fresh or fresh_due[cadence]:
                pairs += 1
                fresh += has_fresh
            for position, period_key in closed:
                flag = flags[position]
                if flag == _NONE and (measure.id, partner_id, period_key) in skips:
                    continue
                owed += 1
                on_time += flag == _ON_TIME
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


def _reported_and_skipped(session: Session, measure_ids: list[int],
                          cutoffs: list[dict[str, datetime]]
                          ) -> tuple[dict[tuple[int, int], tuple[int, ...]],
                                     dict[tuple[int, int, str], str]]:
    """For each partner and measure, per looked-back position (`cutoffs[i]`: each cadence's
    period key at that position, and the end of its due day): _NONE, _LATE, or _ON_TIME
    when a report first came in before the cutoff. And each skip's reason, by partner,
    measure and period. One statement (reports grouped by partner and measure, and skips,
    as one union); the comparisons are made by the database, so no timestamps travel back.

    Corrections add rows: a report is on time when any of its rows (so the first) came in
    before the cutoff.
    """
    keys = sorted({key for at in cutoffs for key in at})
    if not measure_ids or not keys:
        return {}, {}
    positions = [
        func.max(case(*[(Report.period == key, case((Report.reported_at < literal(
            cutoff, UTCDateTime()), _ON_TIME), else_=_LATE)) for key, cutoff in at.items()],
                      else_=_NONE)).label(f"p{i}")
        for i, at in enumerate(cutoffs)]
    reports = (
        select(Report.measure_id, Report.partner_id, *positions,
               literal(None, String).label("period"), literal(None, String).label("reason"))
        .where(Report.measure_id.in_(measure_ids), Report.period.in_(keys))
        .group_by(Report.measure_id, Report.partner_id))
    skips = (select(Skip.measure_id, Skip.partner_id, *[literal(None)] * len(cutoffs),
                    Skip.period, Skip.reason)
             .where(Skip.measure_id.in_(measure_ids), Skip.period.in_(keys)))
    reported: dict[tuple[int, int], tuple[int, ...]] = {}
    skipped: dict[tuple[int, int, str], str] = {}
    for m, p, *row in session.execute(reports.union_all(skips)).all():
        *flags, period, reason = row
        if period is None:
            reported[(m, p)] = tuple(flags)
        else:
            skipped[(m, p, period)] = reason
    return reported, skipped
