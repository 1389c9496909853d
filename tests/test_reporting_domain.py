"""The reporting domain without Slack: argument parsing and concurrent corrections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.initiative.importer import import_file
from bot.measures.reporting import ReportError, ReportRequest, parse_report_args, record_report
from storage.db import Store
from storage.models import Report
from tests.conftest import EXAMPLE, NOW


@pytest.mark.parametrize(("args", "expected"), [
    ("prenatal-visits 72", ReportRequest("prenatal-visits", "72")),
    ("Prenatal-Visits 72% great", ReportRequest("prenatal-visits", "72%", "great")),
    ("prenatal-visits 72 % great", ReportRequest("prenatal-visits", "72 %", "great")),
    ("home-visits 1 250 spring drive", ReportRequest("home-visits", "1 250", "spring drive")),
    ("home-visits 1 250 300 more", ReportRequest("home-visits", "1 250 300", "more")),
    ("home-visits 12 families", ReportRequest("home-visits", "12", "families")),
    ("home-visits 72, from the EHR", ReportRequest("home-visits", "72", "from the EHR")),
    ("home-visits 40 late for 2026-09",
     ReportRequest("home-visits", "40", "late", period_text="2026-09")),
    ("home-visits 40 for 2026-09 late",
     ReportRequest("home-visits", "40", "late", period_text="2026-09")),
    ("home-visits 40 waiting for data",
     ReportRequest("home-visits", "40", "waiting for data")),
    ("home-visits 40 for 2026-09 as family-connects",
     ReportRequest("home-visits", "40", "", "2026-09", "family-connects")),
    ("home-visits 40 as family-connects for 2026-09",
     ReportRequest("home-visits", "40", "", "2026-09", "family-connects")),
])
def test_report_arguments_are_read_as_people_type_them(args: str,
                                                       expected: ReportRequest) -> None:
    assert parse_report_args(args) == expected


words = st.from_regex(r"[a-z][a-z.!']{0,8}", fullmatch=True).filter(
    lambda w: w not in ("for", "as"))
spelled_values = st.integers(min_value=0, max_value=10**9).flatmap(
    lambda n: st.sampled_from([str(n), f"{n:,}", f"{n:,}".replace(",", " "), f"{n}%"]))


@given(spelled_values, st.lists(words, max_size=5),
       st.none() | st.sampled_from(["2026-09", "2026-W38", "2026-Q3"]),
       st.none() | st.sampled_from(["county-health", "united-way"]), st.booleans())
def test_any_spelled_value_note_period_and_partner_come_back_apart(
        value: str, note: list[str], period: str | None, partner: str | None,
        period_first: bool) -> None:
    modifiers = [f"for {period}"] if period else []
    modifiers += [f"as {partner}"] if partner else []
    if period_first:
        modifiers.reverse()
    line = " ".join(["home-visits", value, *note, *modifiers])

    assert parse_report_args(line) == ReportRequest("home-visits", value, " ".join(note),
                                                    period, partner)


def test_report_without_arguments_explains_the_form() -> None:
    with pytest.raises(ReportError, match="/impact report prenatal-visits 72"):
        parse_report_args("   ")


def test_simultaneous_reports_for_one_period_leave_exactly_one_current_value(
        store: Store) -> None:
    import_file(store, EXAMPLE, NOW)
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
    import_file(store, EXAMPLE, NOW)
    for source in ("slash", "modal", "console", "import"):
        record_report(store, ReportRequest("home-visits", "10"), user_id="U0DDD", now=NOW,
                      source=source)
    with pytest.raises(ValueError, match="unknown report source"):
        record_report(store, ReportRequest("home-visits", "10"), user_id="U0DDD", now=NOW,
                      source="email")

    with store.session() as session:
        sources = session.scalars(select(Report.source).order_by(Report.id)).all()
    assert sources == ["slash", "modal", "console", "import"]
