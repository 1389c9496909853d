from __future__ import annotations

from datetime import UTC, datetime

from bot.measures.obligations import obligations
from bot.runtime.caller import load_initiative
from storage.db import Store
from storage.models import Measure, Partner, Report
from tests.support.world import import_example


def test_partner_owes_each_assigned_measure_until_it_reports(store: Store) -> None:
    now = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    import_example(store, now)
    with store.session() as session:
        initiative = load_initiative(session)
        assert initiative is not None
        health = session.query(Partner).filter_by(key="county-health").one()
        visits = session.query(Measure).filter_by(key="prenatal-visits").one()
        before = {(o.measure_key, o.period.key, o.status)
                  for o in obligations(session, initiative, now, [health.id])}
        session.add(Report(measure_id=visits.id, partner_id=health.id, period="2026-10",
                           value=70, reported_by="U0AAA", reported_at=now, source="slash"))
        session.flush()
        after = {(o.measure_key, o.status)
                 for o in obligations(session, initiative, now, [health.id])}

    assert before == {("prenatal-visits", "2026-10", "owed"), ("home-visits", "2026-10", "owed"),
                      ("low-birthweight", "2026-Q3", "owed")}
    assert ("prenatal-visits", "reported") in after
    assert ("home-visits", "owed") in after
