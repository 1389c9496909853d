"""The per-period totals the digest, the scorecard and the forecasts read
(storage/report_totals.py) stay what the reports add up to, whichever way reports are
written: slash commands, corrections, the same value twice, a rate, import-values with
corrections of its own; and on PostgreSQL, two partners reporting at the same moment."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from bot.measures.report_args import ReportRequest
from bot.measures.reporting import record_report
from storage import report_totals
from storage.db import Store
from storage.models import Measure, Partner, ReportTotal
from tests.support.processes import point_cli_at
from tests.support.rba import reply, text_of
from tests.support.world import NOW, import_example


def _kept(store: Store) -> dict[tuple[int, str], tuple[int, float, float, float, float | None]]:
    with store.session() as session:
        return {(t.measure_id, t.period): (t.reports, round(t.total, 6), round(t.numerators, 6),
                                           round(t.denominators, 6), t.latest_value)
                for t in session.scalars(select(ReportTotal)) if t.reports}


def _recounted(store: Store) -> dict[tuple[int, str], tuple[int, float, float, float,
                                                            float | None]]:
    with store.session() as session:
        report_totals.rebuild(session)  # from the reports themselves
        recount = {(t.measure_id, t.period): (t.reports, round(t.total, 6),
                                              round(t.numerators, 6), round(t.denominators, 6),
                                              t.latest_value)
                   for t in session.scalars(select(ReportTotal)) if t.reports}
        session.rollback()
    return recount


def test_totals_follow_every_way_a_report_is_written(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for user, text in [("U0AAA", "report prenatal-visits 50 for sept"),
                       ("U0AAA", "report prenatal-visits 48.5"),
                       ("U0CCC", "report prenatal-visits 60"),
                       ("U0AAA", "report prenatal-visits 49"),  # a correction
                       ("U0AAA", "report prenatal-visits 49"),  # the same again
                       ("U0AAA", "report home-visits 120")]:
        answer = text_of(reply(sandbox, user, text)).lower()
        assert "recorded" in answer or "already" in answer or "updated" in answer, answer
    point_cli_at(sandbox, monkeypatch)
    path = tmp_path / "history.csv"
    path.write_text("measure_key,partner_key,period,value\n"
                    "prenatal-visits,county-health,2026-08,41\n"
                    "prenatal-visits,county-health,2026-09,52\n"  # corrects the slash one
                    "home-visits,county-health,2026-09,110\n")
    assert main(["import-values", str(path)]) == 0

    kept = _kept(sandbox.store)

    assert kept == _recounted(sandbox.store)
    with sandbox.store.session() as session:
        prenatal = session.scalar(select(Measure.id).where(Measure.key == "prenatal-visits"))
    assert kept[(prenatal, "2026-09")][:2] == (1, 52.0)
    assert kept[(prenatal, "2026-10")][:2] == (2, 109.0)  # 49 + 60: the correction counts


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_partners_reporting_at_once_are_both_counted(store: Store) -> None:
    # PostgreSQL, READ COMMITTED: each writer locks the total before summing again. One
    # corrects its report (10 → 40) while another reports (60).
    import_example(store)
    with store.session() as session:
        partners = {p.key: p.id for p in session.scalars(select(Partner))}
    # The total exists already: the two writers meet on it, not on inserting it.
    record_report(store, ReportRequest("prenatal-visits", "10"), user_id="U0AAA", now=NOW,
                  source="slash")
    gate = threading.Barrier(2)
    errors: list[BaseException] = []

    def report(user: str, value: float) -> None:
        try:
            gate.wait()
            record_report(store, ReportRequest("prenatal-visits", str(value)), user_id=user,
                          now=NOW, source="slash")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=report, args=args)
               for args in (("U0AAA", 40.0), ("U0CCC", 60.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and partners
    kept = _kept(store)
    assert kept == _recounted(store)
    assert [(n, total) for n, total, *_ in kept.values()] == [(2, 100.0)]
