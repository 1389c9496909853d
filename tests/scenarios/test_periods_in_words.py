"""Issue 15, findings 1, 2 and 7 (SPEC §9 "Periods in words"): `/impact report … for P`
files the value under the period the person means, or refuses and records nothing; the
note is kept exactly as typed; `as X` in prose is not a partner; values are never
reinterpreted silently. Every test sends signed slash commands into the app."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from storage.models import Initiative, Measure, Partner, Report
from tests.support.world import ADMIN, FIXTURES, import_example

ANNUAL = FIXTURES / "annual-initiative.yml"

# NOW is 2026-11-10 in Chicago: the latest complete month is 2026-10, quarter 2026-Q3.
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def _reply(sandbox: Sandbox, user: str, text: str) -> str:
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1, posts
    payload: dict[str, Any] = posts[0].payload
    assert payload["response_type"] == "ephemeral"
    return str(payload["text"])


def _stored(sandbox: Sandbox) -> list[tuple[str, str, str, float, str]]:
    with sandbox.store.session() as session:
        rows = session.execute(
            select(Measure.key, Partner.key, Report.period, Report.value, Report.note)
            .join(Measure, Measure.id == Report.measure_id)
            .join(Partner, Partner.id == Report.partner_id).order_by(Report.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(sandbox: Sandbox) -> int:
    with sandbox.store.session() as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


# --- finding 1: periods in words -------------------------------------------------------------


@pytest.mark.parametrize(("line", "period", "note", "words"), [
    ("home-visits 43 for September 2026", "2026-09", "", "2026-09 (Sep 2026)"),
    ("home-visits 43 for Sep 2026", "2026-09", "", "2026-09 (Sep 2026)"),
    ("home-visits 43 for sept", "2026-09", "", "2026-09 (Sep 2026)"),
    ("home-visits 43 for Oct", "2026-10", "", "2026-10 (Oct 2026)"),
    ("home-visits 43 for Oct.", "2026-10", "", "2026-10 (Oct 2026)"),
    ("home-visits 43 for Dec", "2025-12", "", "2025-12 (Dec 2025)"),
    ("home-visits 43 estimate for 2026-09 from staff", "2026-09", "estimate from staff",
     "2026-09 (Sep 2026)"),
    ("home-visits 43 for last month", "2026-10", "", "2026-10 (Oct 2026)"),
    ("home-visits 43 waiting  for data,  sadly", "2026-10", "waiting  for data,  sadly",
     "2026-10 (Oct 2026)"),
])
def test_a_period_in_words_files_the_value_where_the_person_means(
        sandbox: Sandbox, line: str, period: str, note: str, words: str) -> None:
    text = _reply(sandbox, "U0DDD", f"report {line}")

    assert _stored(sandbox) == [("home-visits", "family-connects", period, 43.0, note)]
    assert f"filed under period {words}" in text


def test_quarters_and_weeks_in_words(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report low-birthweight 8.1 for Q2 2026")
    _reply(sandbox, "U0AAA", "report low-birthweight 8.2 for last quarter")
    text = _reply(sandbox, "U0EEE", "report diaper-bank 900 for week 38")

    assert [(r[0], r[2], r[3]) for r in _stored(sandbox)] == [
        ("low-birthweight", "2026-Q2", 8.1), ("low-birthweight", "2026-Q3", 8.2),
        ("diaper-bank", "2026-W38", 900.0)]
    assert "2026-W38 (14–20 Sep 2026)" in text


@pytest.mark.parametrize(("line", "reason"), [
    ("home-visits 43 for 2020-01", "more than 2 years back"),
    ("home-visits 43 for Septmber 2026", "could not tell which period `for Septmber`"),
    ("home-visits 43 for Spring 2026", "could not tell which period `for Spring 2026`"),
    ("home-visits 43 for 2026-13", "has no month 13"),
    ("home-visits 43 for 2026-9-1", "could not tell which period"),
    ("home-visits 43 for Q3 2026", "is a quarter, but this measure is reported monthly"),
    ("home-visits 43 for 2026", "is a whole year, but this measure is reported monthly"),
    ("home-visits 43 for week 38", "is a week, but this measure is reported monthly"),
    ("home-visits 43 for Nov", "2026-11 (Nov 2026) is still running"),
    ("home-visits 43 for December 2026", "2026-12 (Dec 2026) is in the future"),
    ("home-visits 43 for sept for Oct", "Two periods"),
    ("low-birthweight 8 for September 2026", "is a month, but this measure is reported "
                                             "quarterly"),
    ("low-birthweight 8 for Q5", "a year has quarters 1 to 4"),
])
def test_a_period_not_understood_or_not_fitting_is_refused_and_nothing_is_stored(
        sandbox: Sandbox, line: str, reason: str) -> None:
    user = "U0AAA" if line.startswith("low") else "U0DDD"
    text = _reply(sandbox, user, f"report {line}")

    assert reason in text
    assert "Recorded" not in text
    assert _stored(sandbox) == []


# --- the property: every accepted phrase is the period meant; every refusal stores nothing --

_values = itertools.count(1000)


@st.composite
def month_phrases(draw: st.DrawFn) -> tuple[str, str | None]:
    """A way of writing a month, and the period a person means by it (None: refuse)."""
    kind = draw(st.sampled_from(["key", "name", "abbrev", "bare", "relative", "typo",
                                 "wrong-cadence", "future", "ancient"]))
    year, month = draw(st.sampled_from([(y, m) for y in (2025, 2026) for m in range(1, 13)
                                        if (y, m) <= (2026, 10)]))
    key = f"{year}-{month:02d}"
    name = MONTHS[month - 1]
    case = draw(st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
    if kind == "key":
        return draw(st.sampled_from([key, f"{year}-{month}"])), key
    if kind == "name":
        return f"{case(name)} {year}", key
    if kind == "abbrev":
        cut = draw(st.integers(min_value=3, max_value=len(name)))
        dot = draw(st.sampled_from(["", "."])) if cut < len(name) else ""
        return f"{case(name[:cut])}{dot} {year}", key
    if kind == "bare":
        # A month without a year is the latest one that has begun: Nov 2025 … Oct 2026.
        meant = f"{2026 if month <= 11 else 2025}-{month:02d}"
        if meant > "2026-10":
            return case(name), None  # 2026-11 is still running
        return case(name[:draw(st.integers(min_value=3, max_value=len(name)))]), meant
    if kind == "relative":
        return draw(st.sampled_from(["last month", "previous month", "the last month",
                                     "Last Month"])), "2026-10"
    if kind == "typo":
        return draw(st.sampled_from(["Septmber", "Octobr 2026", "Febuary", "Spring 2026",
                                     "2026-9-1", "2026/13", "Q7"])), None
    if kind == "wrong-cadence":
        return draw(st.sampled_from(["Q3 2026", "2026", "FY2027", "week 38", "last week",
                                     "last quarter", "2026-W38", "2026-Q3"])), None
    if kind == "future":
        return draw(st.sampled_from(["2026-11", "November 2026", "December 2026", "2027-01",
                                     "this month", "next month"])), None
    return draw(st.sampled_from(["2020-01", "January 2019", "2023-12"])), None


note_words = st.lists(st.sampled_from(["estimate", "from", "staff", "late,", "sorry!",
                                       "per  EHR", "q3-ish"]), max_size=3)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(month_phrases(), note_words, note_words)
def test_property_every_accepted_phrase_is_the_period_meant_and_refusals_store_nothing(
        sandbox: Sandbox, phrase: tuple[str, str | None], before: list[str],
        after: list[str]) -> None:
    text, meant = phrase
    value = next(_values)
    count = _count(sandbox)
    line = " ".join(["report home-visits", str(value), *before, "for", text, *after])

    reply = _reply(sandbox, "U0DDD", line)

    if meant is None:
        assert "Recorded" not in reply, (line, reply)
        assert _count(sandbox) == count
        return
    assert _count(sandbox) == count + 1, (line, reply)
    stored = _stored(sandbox)[-1]
    assert stored[2:4] == (meant, float(value)), (line, stored)
    assert stored[4] == " ".join([*before, *after]).strip(), (line, stored)
    assert f"filed under period {meant}" in reply


# --- the same property for annual measures on fiscal years (tests/fixtures/annual-initiative.yml,
# years from July: on NOW the year owed is FY2026, Jul 2025 – Jun 2026) and calendar years ----


@pytest.fixture(params=[7, 1], ids=["fiscal-july", "calendar"])
def annual(request: pytest.FixtureRequest, bare_sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    text = ANNUAL.read_text()
    path = tmp_path / "annual.yml"
    path.write_text(text.replace("fiscal_year_start: 7", f"fiscal_year_start: {request.param}"))
    import_example(bare_sandbox.store, path=path)
    return bare_sandbox


@st.composite
def year_phrases(draw: st.DrawFn) -> tuple[str, dict[int, str | None]]:
    """A way of writing a year, and the period meant with years from July and from January
    (None: refuse)."""
    kind = draw(st.sampled_from(["fiscal", "relative", "bare", "future", "wrong-cadence",
                                 "typo", "ancient"]))
    if kind == "fiscal":
        year = draw(st.sampled_from([2024, 2025, 2026]))
        digits = draw(st.sampled_from([str(year), str(year)[2:]]))
        text = draw(st.sampled_from(["FY", "fy", "Fy", "FY ", "FY-", "FY'"])) + digits
        # From January, FY2026 is the calendar year 2026: still running in November 2026.
        return text, {7: f"FY{year}", 1: None if year == 2026 else str(year)}
    if kind == "relative":
        return draw(st.sampled_from(["last year", "previous year", "the last year",
                                     "Last Year", "past year"])), {7: "FY2026", 1: "2025"}
    if kind == "bare":
        year = draw(st.sampled_from([2024, 2025]))
        return str(year), {7: None, 1: str(year)}  # fiscal: say FY2025 or FY2026
    if kind == "future":
        return draw(st.sampled_from(["FY2027", "FY28", "this year", "next year", "2026",
                                     "2027"])), {7: None, 1: None}
    if kind == "wrong-cadence":
        return draw(st.sampled_from(["September 2026", "sept", "Q3 2026", "week 38",
                                     "last month", "last quarter", "2026-09", "2026-Q3",
                                     "2026-W38"])), {7: None, 1: None}
    if kind == "typo":
        return draw(st.sampled_from(["FY20266", "FY2O26", "fy.2026", "Septmber",
                                     "2026/13"])), {7: None, 1: None}
    # More than two years before the year owed (FY2023 began in July 2022; from January
    # it is 2023, just within reach of 2025).
    text = draw(st.sampled_from(["FY2023", "FY1999", "2019", "FY1066"]))
    return text, {7: None, 1: "2023" if text == "FY2023" else None}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(year_phrases(), note_words, note_words)
def test_property_every_accepted_year_is_the_year_meant_and_refusals_store_nothing(
        annual: Sandbox, phrase: tuple[str, dict[int, str | None]], before: list[str],
        after: list[str]) -> None:
    text, meant_by = phrase
    with annual.store.session() as session:
        meant = meant_by[int(session.scalar(select(Initiative.fiscal_year_start)) or 0)]
    value = next(_values)
    count = _count(annual)
    line = " ".join(["report kindergarten-ready", str(value), *before, "for", text, *after])

    reply = _reply(annual, "U0CCC", line)

    if meant is None:
        assert "Recorded" not in reply, (line, reply)
        assert _count(annual) == count
        return
    assert _count(annual) == count + 1, (line, reply)
    stored = _stored(annual)[-1]
    assert stored[2:4] == (meant, float(value)), (line, stored)
    assert stored[4] == " ".join([*before, *after]).strip(), (line, stored)
    assert f"filed under period {meant} (" in reply


# --- finding 2: `as X` -------------------------------------------------------------------------


def test_as_in_the_middle_of_a_note_is_prose_kept_verbatim(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0DDD", "report home-visits 41 as reported by county staff")
    _reply(sandbox, "U0DDD", "report home-visits 42 as expected")
    _reply(sandbox, ADMIN, "report home-visits 44 from the EHR as family-connects for sept")

    assert _stored(sandbox) == [
        ("home-visits", "family-connects", "2026-10", 41.0, "as reported by county staff"),
        ("home-visits", "family-connects", "2026-10", 42.0, "as expected"),
        ("home-visits", "family-connects", "2026-09", 44.0, "from the EHR"),
    ]


def test_a_members_as_with_a_key_shaped_unknown_partner_is_refused(sandbox: Sandbox) -> None:
    text = _reply(sandbox, "U0DDD", "report home-visits 41 as family-conects")

    assert "There is no partner `family-conects`" in text
    assert _stored(sandbox) == []


def test_an_admins_unknown_partner_is_refused(sandbox: Sandbox) -> None:
    text = _reply(sandbox, ADMIN, "report home-visits 41 as expected")

    assert "There is no partner `expected`" in text
    assert _stored(sandbox) == []


# --- finding 7: values never reinterpreted silently --------------------------------------------


def test_a_fraction_on_a_percentage_measure_is_asked_not_stored(sandbox: Sandbox) -> None:
    text = _reply(sandbox, "U0AAA", "report prenatal-visits 0.7")

    # The data-quality guard asks (tests/scenarios/test_quality_guard.py presses the buttons).
    assert "I have not recorded 0.7" in text
    assert "0.7% looks like a fraction: the baseline is 61%" in text
    assert _stored(sandbox) == []


def test_a_value_with_three_decimals_is_kept_as_typed_and_said_so(sandbox: Sandbox) -> None:
    text = _reply(sandbox, "U0DDD", "report home-visits 1.250 families")

    assert _stored(sandbox) == [("home-visits", "family-connects", "2026-10", 1.25, "")]
    assert "Recorded 1.250 families" in text
    assert "`1.250` is kept as typed: 1.25. If you meant 1,250, report `1250`" in text

