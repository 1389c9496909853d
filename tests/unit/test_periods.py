"""Period arithmetic (bot.measures.periods): year ends, ISO week 53, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.measures.periods import (
    CADENCES,
    MAX_YEAR,
    MIN_YEAR,
    Cadence,
    current_period,
    due_date,
    parse_period,
    period_containing,
    recent_periods,
    reminder_due_local,
    reporting_period,
)

CHICAGO = ZoneInfo("America/Chicago")
# Zones with unusual daylight saving: southern hemisphere, 30-minute shift, a zone that
# skipped a whole day (Apia, 2011-12-30), and one without DST.
ZONES = ["America/Chicago", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney",
         "Australia/Lord_Howe", "Pacific/Apia", "America/Sao_Paulo", "UTC"]

cadences = st.sampled_from(CADENCES)
# The month the initiative's years start in (annual periods only; others ignore it).
fy_starts = st.integers(min_value=1, max_value=12)
days = st.dates(min_value=date(MIN_YEAR + 1, 1, 1), max_value=date(MAX_YEAR - 1, 12, 31))
zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(UTC))


@given(cadences, days, fy_starts)
@example("weekly", date(2026, 12, 31), 1)
@example("weekly", date(2027, 1, 3), 1)
@example("quarterly", date(2026, 12, 31), 1)
@example("annual", date(2026, 6, 30), 7)
@example("annual", date(2026, 7, 1), 7)
def test_a_period_contains_its_day_and_links_to_its_neighbours(cadence: Cadence,
                                                               day: date, fy: int) -> None:
    period = period_containing(cadence, day, fy)

    assert period.start <= day < period.end
    assert period.next().start == period.end
    assert period.prev().end == period.start
    assert period.next().prev() == period
    assert period.prev().next() == period
    assert period.key < period.next().key  # keys sort in time order, across year ends


@given(cadences, days, fy_starts)
def test_every_period_key_parses_back_to_the_same_period(cadence: Cadence, day: date,
                                                         fy: int) -> None:
    period = period_containing(cadence, day, fy)

    assert parse_period(cadence, period.key, fy) == period
    assert parse_period(cadence, period.key.lower(), fy) == period


@given(days, fy_starts)
def test_a_year_starts_in_the_fiscal_month_and_is_named_after_the_year_it_ends(
        day: date, fy: int) -> None:
    year = period_containing("annual", day, fy)

    assert year.start == date(year.start.year, fy, 1) and year.days in (365, 366)
    assert year.last_day.month == (fy - 2) % 12 + 1
    assert year.key == (str(day.year) if fy == 1 else f"FY{year.last_day.year}")
    # A calendar year's FY spelling is the same year; a fiscal initiative refuses a bare year.
    if fy == 1:
        assert parse_period("annual", f"FY{day.year}") == year
    else:
        with pytest.raises(ValueError, match="fiscal years starting in"):
            parse_period("annual", f"{day.year}", fy)


@pytest.mark.parametrize(("utc", "fy", "expected"), [
    # FY2027 = 1 Jul 2026 – 30 Jun 2027: it is owed once it has ended, in Chicago's time.
    (datetime(2027, 7, 1, 4, 59, tzinfo=UTC), 7, "FY2026"),
    (datetime(2027, 7, 1, 5, 0, tzinfo=UTC), 7, "FY2027"),
    (datetime(2027, 1, 1, 5, 59, tzinfo=UTC), 1, "2025"),
    (datetime(2027, 1, 1, 6, 0, tzinfo=UTC), 1, "2026"),
])
def test_an_annual_reporting_period_turns_over_at_the_local_start_of_the_year(
        utc: datetime, fy: int, expected: str) -> None:
    period = reporting_period("annual", utc, CHICAGO, fy)

    assert period.key == expected
    assert due_date(period, 1) == period.end + timedelta(days=7)  # a week after day 1


@given(cadences, st.integers(min_value=0, max_value=9999), st.integers(min_value=0,
                                                                        max_value=99))
@example("monthly", 9999, 12)
@example("weekly", 9999, 52)
@example("quarterly", 9999, 4)
@example("weekly", 1, 1)
def test_any_typed_period_parses_or_is_refused_with_a_reason(cadence: Cadence, year: int,
                                                             number: int) -> None:
    text = {"weekly": f"{year:04d}-W{number:02d}", "monthly": f"{year:04d}-{number:02d}",
            "quarterly": f"{year:04d}-Q{number % 10}",
            "annual": f"FY{year:04d}" if number % 2 else f"{year:04d}"}[cadence]
    fy = 1 + number % 12
    try:
        period = parse_period(cadence, text, fy)
    except ValueError as exc:
        assert text in str(exc) or str(year) in str(exc)
        return
    assert period.key == text.upper() or (fy == 1 and period.key == text[2:])
    period.next()  # no overflow at the edge of the calendar


def test_iso_week_53_exists_only_in_long_years() -> None:
    assert parse_period("weekly", "2026-W53").start == date(2026, 12, 28)
    assert parse_period("weekly", "2026-W53").next().key == "2027-W01"
    assert period_containing("weekly", date(2027, 1, 1)).key == "2026-W53"
    assert period_containing("weekly", date(2024, 12, 30)).key == "2025-W01"
    with pytest.raises(ValueError, match="2025 has no ISO week 53"):
        parse_period("weekly", "2025-W53")


@given(st.integers(min_value=MIN_YEAR, max_value=MAX_YEAR - 1))
def test_week_53_parses_exactly_when_the_year_has_53_iso_weeks(year: int) -> None:
    long_year = date(year, 12, 28).isocalendar()[1] == 53
    try:
        parse_period("weekly", f"{year}-W53")
        parsed = True
    except ValueError:
        parsed = False
    assert parsed == long_year


@given(cadences, instants, zones, fy_starts)
def test_the_reporting_period_is_the_last_complete_one_in_local_time(
        cadence: Cadence, instant: datetime, tz: ZoneInfo, fy: int) -> None:
    local_day = instant.astimezone(tz).date()
    running = current_period(cadence, instant, tz, fy)
    reporting = reporting_period(cadence, instant, tz, fy)

    assert running.start <= local_day < running.end
    assert reporting.end == running.start
    assert reporting.end <= local_day


@pytest.mark.parametrize(("utc", "expected"), [
    # Chicago springs forward on Sunday 2026-03-08: Monday starts at 05:00Z, not 06:00Z.
    (datetime(2026, 3, 9, 4, 59, tzinfo=UTC), "2026-W09"),
    (datetime(2026, 3, 9, 5, 0, tzinfo=UTC), "2026-W10"),
    # ...and falls back on Sunday 2026-11-01: Monday starts at 06:00Z again.
    (datetime(2026, 11, 2, 5, 59, tzinfo=UTC), "2026-W43"),
    (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "2026-W44"),
    # The new year arrives in Chicago six hours after it does in UTC.
    (datetime(2027, 1, 4, 5, 59, tzinfo=UTC), "2026-W52"),
    (datetime(2027, 1, 4, 6, 0, tzinfo=UTC), "2026-W53"),
])
def test_weekly_reporting_period_turns_over_at_local_midnight_across_dst(
        utc: datetime, expected: str) -> None:
    assert reporting_period("weekly", utc, CHICAGO).key == expected


@pytest.mark.parametrize(("utc", "monthly", "quarterly"), [
    (datetime(2027, 1, 1, 5, 59, tzinfo=UTC), "2026-11", "2026-Q3"),
    (datetime(2027, 1, 1, 6, 0, tzinfo=UTC), "2026-12", "2026-Q4"),
])
def test_monthly_and_quarterly_periods_turn_over_at_local_new_year(
        utc: datetime, monthly: str, quarterly: str) -> None:
    assert reporting_period("monthly", utc, CHICAGO).key == monthly
    assert reporting_period("quarterly", utc, CHICAGO).key == quarterly


@given(cadences, days, st.integers(min_value=-3, max_value=120),
       st.times(), zones, fy_starts)
@example("monthly", date(2026, 2, 15), 8, time(2, 30), CHICAGO, 1)  # 02:30 does not exist
@example("monthly", date(2026, 10, 15), 1, time(1, 30), CHICAGO, 1)  # 01:30 happens twice
@example("weekly", date(2000, 3, 13), 7, time(2, 0, fold=1), ZoneInfo("Europe/Berlin"), 1)
def test_reminders_fall_inside_the_collection_period_at_the_local_time(
        cadence: Cadence, day: date, reminder_day: int, at: time, tz: ZoneInfo,
        fy: int) -> None:
    period = period_containing(cadence, day, fy)
    collection = period.next()
    due = reminder_due_local(period, reminder_day, at, tz)
    landed = due.astimezone(UTC).astimezone(tz)

    assert collection.start <= due.date() < collection.end
    # On a spring-forward day a missing wall time lands at most the gap later; otherwise
    # the reminder fires at exactly the wall time asked for.
    wall = datetime.combine(due.date(), at)
    drift = landed.replace(tzinfo=None) - wall
    assert timedelta(0) <= drift <= timedelta(hours=1) or landed.date() > due.date()
    assert collection.start <= due_date(period, reminder_day) <= collection.last_day
    assert due_date(period, reminder_day) >= due.date() or due.date() == collection.last_day


@given(cadences, days, st.integers(min_value=1, max_value=30), fy_starts)
def test_recent_periods_are_consecutive_and_end_with_the_given_one(cadence: Cadence,
                                                                   day: date, count: int,
                                                                   fy: int) -> None:
    period = period_containing(cadence, day, fy)
    periods = recent_periods(period, count)

    assert len(periods) == count
    assert periods[-1] == period
    assert all(a.end == b.start for a, b in pairwise(periods))
