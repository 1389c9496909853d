"""The like-for-like change the digest and the scorecard read in one statement
(`bot.digest.figures.like_for_like_changes`) is the rule `/impact measures` applies in
memory (`bot.measures.progress.like_for_like`), for every aggregate rule: partners in only
one of the two periods, corrections, rates without a denominator, ties in time."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.digest.figures import like_for_like_changes
from bot.measures.progress import PartnerValue, like_for_like
from storage.db import Store
from storage.models import Measure, Partner, Report
from tests.support.world import NOW, import_example

NOW_KEY, BEFORE_KEY = "2026-10", "2026-09"

# One partner's figures: (in October?, in September?, value, numerator, denominator, hour).
partner_figures = st.tuples(
    st.booleans(), st.booleans(), st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 2)),
    st.one_of(st.none(), st.integers(0, 500)), st.one_of(st.none(), st.integers(0, 900)),
    st.integers(0, 1))  # hours before NOW: ties in time are frequent


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(rule="latest", figures=[(True, True, 1.0, None, None, 0),
                                 (True, True, 2.0, None, None, 0)])  # a tie in time
@given(rule=st.sampled_from(["sum", "avg", "latest", "pooled"]),
       figures=st.lists(partner_figures, min_size=0, max_size=3))
def test_the_statement_agrees_with_the_rule_in_memory(store: Store, rule: str,
                                                      figures: list[tuple]) -> None:
    with store.session() as session:
        imported = session.execute(select(Measure.id)).first() is not None
    if not imported:
        import_example(store)
    with store.session() as session:
        measure = session.scalars(select(Measure).order_by(Measure.id)).first()
        partners = list(session.scalars(select(Partner).order_by(Partner.id)))
        assert measure is not None and len(partners) >= len(figures)
        measure.aggregate = rule
        session.execute(delete(Report))
        values: dict[str, list[PartnerValue]] = {NOW_KEY: [], BEFORE_KEY: []}
        for index, (partner, (in_now, in_before, value, num, den, hour)) in enumerate(
                zip(partners, figures, strict=False)):
            value += 1000 * index  # partners' values differ, so a tie broken wrong shows
            for period, present in ((NOW_KEY, in_now), (BEFORE_KEY, in_before)):
                if not present:
                    continue
                at = NOW - timedelta(hours=hour)
                figure = value if period == NOW_KEY else value / 2  # the periods differ
                # A correction first: only the current row counts.
                session.add(Report(measure_id=measure.id, partner_id=partner.id, period=period,
                                   value=figure + 1, note="", reported_by="U0", source="slash",
                                   reported_at=at - timedelta(days=1), is_current=False))
                session.add(Report(measure_id=measure.id, partner_id=partner.id, period=period,
                                   value=figure, numerator=num, denominator=den, note="",
                                   reported_by="U0", reported_at=at, source="slash",
                                   is_current=True))
                values[period].append(PartnerValue(partner.id, figure, at, num, den))
        session.flush()

        measure_id = measure.id
        read = like_for_like_changes(session, [measure], {measure_id: (NOW_KEY, BEFORE_KEY)})
        session.rollback()

    expected = like_for_like(values[NOW_KEY], values[BEFORE_KEY], rule)
    change = read[measure_id]
    assert change.partners == expected.partners
    if expected.delta is None:
        assert change.delta is None
    else:
        assert change.delta is not None and abs(change.delta - expected.delta) < 1e-6
