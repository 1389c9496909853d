"""Reading `/impact report` arguments the way people type them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.measures.reporting import ReportError, ReportRequest, parse_report_args


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
       st.none() | st.sampled_from(["2026-09", "2026-W38", "2026-Q3", "2026", "FY2027", "FY27",
                                    "last year"]),
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
