"""The reporting domain without Slack: argument parsing and concurrent corrections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.measures.reporting import ReportRequest, record_report
from storage.db import Store
from storage.models import Report
from tests.support.world import NOW, import_example


def test_simultaneous_reports_for_one_period_leave_exactly_one_current_value(
        store: Store) -> None:
    import_example(store)
    values = [str(60 + i) for i in range(6)]

    def report(value: str) -> float:
        return record_report(store, ReportRequest("prenatal-visits", value),
                             user_id="U0AAA", now=NOW, source="slash").value

    with ThreadPoolExecutor(max_workers=6) as pool:
        recorded = list(pool.map(report, values))

    with store.session() as session:
        rows = session.scalars(select(Report).order_by(Report.id)).all()
        current = [r for r in rows if r.is_current]
    assert sorted(recorded) == sorted(float(v) for v in values)
    assert len(rows) == len(values)
    assert len(current) == 1
    assert current[0].id == rows[-1].id  # the last one stored is the one that counts


def test_every_source_is_recorded_and_unknown_ones_are_a_bug(store: Store) -> None:
    import_example(store)
    for source in ("slash", "modal", "console", "import"):
        record_report(store, ReportRequest("home-visits", "10"), user_id="U0DDD", now=NOW,
                      source=source)
    with pytest.raises(ValueError, match="unknown report source"):
        record_report(store, ReportRequest("home-visits", "10"), user_id="U0DDD", now=NOW,
                      source="email")

    with store.session() as session:
        sources = session.scalars(select(Report.source).order_by(Report.id)).all()
    assert sources == ["slash", "modal", "console", "import"]
