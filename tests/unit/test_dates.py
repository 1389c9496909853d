"""bot/rendering/dates.py: the one wording for dates (its docstring states the rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.measures.periods import parse_period
from bot.rendering import dates

TODAY = date(2026, 11, 30)


def test_a_day_has_its_year_only_outside_todays_year_or_without_a_today() -> None:
    assert dates.day(date(2026, 11, 3), TODAY) == "3 Nov"
    assert dates.day(date(2027, 1, 4), TODAY) == "4 Jan 2027"
    assert dates.day(date(2026, 11, 3)) == "3 Nov 2026"


def test_a_day_to_act_on_leads_with_its_weekday() -> None:
    assert dates.action_day(date(2026, 11, 3), TODAY) == "Tue 3 Nov"
    assert dates.action_day(date(2027, 1, 4), TODAY) == "Mon 4 Jan 2027"
    assert dates.action_day(date(2026, 11, 8)) == "Sun 8 Nov 2026"


def test_a_time_of_day_names_its_zone() -> None:
    chicago = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert dates.time_of_day(chicago) == "10:00 (America/Chicago)"
    assert dates.moment(chicago, TODAY) == "Thu 3 Dec at 10:00 (America/Chicago)"
    assert dates.moment(datetime(2026, 11, 10, 21, 5, tzinfo=UTC)) == \
        "Tue 10 Nov 2026 at 21:05 (UTC)"


@pytest.mark.parametrize(("first", "last", "today", "words"), [
    (date(2026, 11, 9), date(2026, 11, 15), TODAY, "9–15 Nov"),
    (date(2026, 9, 28), date(2026, 10, 4), TODAY, "28 Sep – 4 Oct"),
    (date(2026, 12, 28), date(2027, 1, 3), TODAY, "28 Dec 2026 – 3 Jan 2027"),
    (date(2026, 11, 9), date(2026, 11, 15), None, "9–15 Nov 2026"),
    (date(2026, 11, 9), date(2026, 11, 9), TODAY, "9 Nov"),
])
def test_a_range_of_days(first: date, last: date, today: date | None, words: str) -> None:
    assert dates.date_range(first, last, today) == words


@pytest.mark.parametrize(("cadence", "key", "label", "span"), [
    ("monthly", "2026-10", "Oct 2026", "Oct 2026"),
    ("quarterly", "2026-Q3", "Q3 2026", "Jul–Sep 2026"),
    ("weekly", "2026-W46", "week 46 of 2026", "9–15 Nov 2026"),
    ("weekly", "2026-W53", "week 53 of 2026", "28 Dec 2026 – 3 Jan 2027"),
    ("weekly", "2027-W01", "week 1 of 2027", "4–10 Jan 2027"),
])
def test_a_period_by_cadence(cadence: str, key: str, label: str, span: str) -> None:
    period = parse_period(cadence, key)  # type: ignore[arg-type]
    assert dates.period_label(period) == label
    assert dates.period_span(period) == span
