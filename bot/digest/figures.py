"""Each measure's figures per period, read from the store for the digest and the public
scorecard alike: the aggregates of every period shown (one statement) and the like-for-like
change of the latest period (one statement). The covering index on reports
(`ix_reports_figures`) answers both without visiting the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from bot.digest.content import PeriodAggregate
from bot.measures.periods import Cadence, Period, as_cadence
from bot.measures.progress import Change, pooled
from storage import report_totals
from storage.models import Measure, Report


def period_aggregates(session: Session, measures: list[Measure], period_keys: list[str]
                      ) -> dict[tuple[int, str], PeriodAggregate]:
    """Count, Σ values, Σ numerators, Σ denominators and the latest value per (measure,
    period), from the totals kept beside the reports (bot/measures/report_totals.py): one
    statement, a row per measure and period."""
    return {(measure_id, period): PeriodAggregate(total, reports, latest or 0.0, nums, dens)
            for measure_id, period, reports, total, nums, dens, latest in report_totals.read(
                session, [m.id for m in measures], period_keys)}


def latest_changes(session: Session, measures: list[Measure],
                   history: Mapping[Cadence, Sequence[Period]],
                   aggregates: Mapping[tuple[int, str], PeriodAggregate]) -> dict[int, Change]:
    """Each measure's like-for-like change into the latest of its `history` periods (by
    cadence, oldest first) that has a value, from the period before it."""
    latest: dict[int, tuple[str, str]] = {}
    for measure in measures:
        periods = history[as_cadence(measure.cadence)]
        index = next((i for i in range(len(periods) - 1, 0, -1)
                      if (measure.id, periods[i].key) in aggregates), None)
        if index is not None:
            latest[measure.id] = (periods[index].key, periods[index - 1].key)
    return like_for_like_changes(session, measures, latest)


def like_for_like_changes(session: Session, measures: list[Measure],
                          latest: dict[int, tuple[str, str]]) -> dict[int, Change]:
    """Each measure's change from the period before its latest one with a value (`latest`:
    measure id -> (that period's key, the one before)), over the partners that reported in
    both: one statement, which pairs each partner's two reports and sums them per measure
    (`bot.measures.progress.like_for_like` is the same rule over values in memory).

    Sums serve `sum` and `avg`; Σ numerators and Σ denominators of the rows that have both
    serve `pooled`; for `latest`, the value of the most recently reported of the pair's
    reports in each period (ties: the higher partner id), picked by a window over those
    measures' pairs alone (a union of the two).
    """
    if not latest:
        return {}
    rules = {m.id: m.aggregate for m in measures}
    newest_first = [m for m in latest if rules[m] == "latest"]
    others = [m for m in latest if rules[m] != "latest"]
    parts = [_paired({m: latest[m] for m in ids}, ranked=ranked)
             for ids, ranked in ((others, False), (newest_first, True)) if ids]
    statement = parts[0] if len(parts) == 1 else parts[0].union_all(parts[1])
    rows = session.execute(statement).all()
    changes = {measure_id: Change(None, 0) for measure_id in latest}
    for measure_id, n, total_now, total_before, num_now, den_now, num_before, den_before, \
            newest_now, newest_before in rows:
        rule = rules[measure_id]
        if rule == "sum":
            figures = (total_now, total_before)
        elif rule == "avg":
            figures = (total_now / n, total_before / n)
        elif rule == "latest":
            figures = (newest_now, newest_before)
        elif rule == "pooled":
            figures = (pooled(num_now or 0.0, den_now or 0.0),
                       pooled(num_before or 0.0, den_before or 0.0))
        else:
            raise ValueError(f"unknown aggregate rule {rule!r}")
        changes[measure_id] = Change(
            None if figures[0] is None or figures[1] is None else figures[0] - figures[1],
            int(n))
    return changes


def _paired(latest: dict[int, tuple[str, str]], *, ranked: bool) -> Any:
    """Per measure: partners in both periods, Σ values, Σ numerators and Σ denominators
    (rows with both) in each period, and with `ranked` the newest value in each."""
    now, before = aliased(Report), aliased(Report)
    # Measures that share their two periods are asked together, one select per pair of
    # keys (a few), each with both periods constant: both databases then read each side by
    # index, whatever the number of measures.
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for measure_id, pair in latest.items():
        by_pair[pair].append(measure_id)

    def rated(row: Any, column: Any) -> Any:
        return case((and_(row.numerator.is_not(None), row.denominator != 0), column))

    selects = [
        select(now.measure_id.label("measure_id"), now.value.label("now"),
               before.value.label("before"),
               rated(now, now.numerator).label("now_num"),
               rated(now, now.denominator).label("now_den"),
               rated(before, before.numerator).label("before_num"),
               rated(before, before.denominator).label("before_den"),
               now.reported_at.label("now_at"), before.reported_at.label("before_at"),
               now.partner_id.label("partner_id"))
        .join(before, and_(before.measure_id == now.measure_id,
                           before.partner_id == now.partner_id, before.is_current.is_(True),
                           before.period == before_key))
        .where(now.is_current.is_(True), now.period == now_key, now.measure_id.in_(ids))
        for (now_key, before_key), ids in sorted(by_pair.items())]
    pairs = (selects[0] if len(selects) == 1 else union_all(*selects)).subquery()
    if ranked:
        def newest(at: Any) -> Any:
            return func.row_number().over(partition_by=pairs.c.measure_id,
                                          order_by=(at.desc(), pairs.c.partner_id.desc()))

        pairs = select(pairs, newest(pairs.c.now_at).label("now_rank"),
                       newest(pairs.c.before_at).label("before_rank")).subquery()
        newest_now: Any = func.max(case((pairs.c.now_rank == 1, pairs.c.now)))
        newest_before: Any = func.max(case((pairs.c.before_rank == 1, pairs.c.before)))
    else:
        newest_now = newest_before = literal(None)
    return (select(pairs.c.measure_id, func.count(), func.sum(pairs.c.now),
                   func.sum(pairs.c.before), func.sum(pairs.c.now_num),
                   func.sum(pairs.c.now_den), func.sum(pairs.c.before_num),
                   func.sum(pairs.c.before_den), newest_now, newest_before)
            .group_by(pairs.c.measure_id))
