"""Working days and holidays (bot/workdays.py) and their keys in initiative.yml."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.initiative.file import InitiativeFileError, parse_initiative
from bot.workdays import EVERY_DAY, WorkCalendar, calendar_of

TOKYO = ZoneInfo("Asia/Tokyo")
MON_FRI = frozenset(range(5))


def test_a_day_off_moves_to_the_next_working_day_at_the_same_local_time() -> None:
    calendar = WorkCalendar(frozenset({date(2026, 12, 25)}), MON_FRI)
    christmas_nine = datetime(2026, 12, 25, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert calendar.move(christmas_nine, TOKYO) == datetime(2026, 12, 28, 0, 0, tzinfo=UTC)
    thursday = datetime(2026, 12, 24, 0, 0, tzinfo=UTC)
    assert calendar.move(thursday, TOKYO) == thursday
    assert EVERY_DAY.move(christmas_nine, TOKYO) == christmas_nine


def test_the_day_off_is_the_persons_own_local_day() -> None:
    calendar = WorkCalendar(frozenset({date(2026, 12, 25)}))
    # 23:00Z on the 24th is the 25th in Tokyo but still the 24th in Chicago.
    late = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    assert calendar.move(late, ZoneInfo("America/Chicago")) == late
    assert calendar.move(late, TOKYO) == datetime(2026, 12, 25, 23, 0, tzinfo=UTC)


def test_partner_holidays_add_to_the_initiatives() -> None:
    calendar = calendar_of({"holidays": ["2026-12-25"], "working_days": [0, 1, 2, 3, 4]},
                           ["2026-12-28"])
    assert calendar.next_working(date(2026, 12, 25)) == date(2026, 12, 29)
    assert calendar_of({}, []) == EVERY_DAY


BASE = """
initiative:
  name: Test
  {extra}
partners:
  - {{key: a, name: A, members: [U0AAA]{partner}}}
"""


def parse(extra: str = "", partner: str = "") -> object:
    return parse_initiative(BASE.format(extra=extra, partner=partner))


def test_the_file_reads_holidays_and_working_days() -> None:
    spec = parse("working_days: [mon, tue, wed, thu, friday]\n  holidays: [2026-12-25]",
                 ", holidays: [2026-12-24]")
    assert spec.calendar == {"holidays": ["2026-12-25"],  # type: ignore[attr-defined]
                             "working_days": [0, 1, 2, 3, 4]}
    assert spec.partners[0].holidays == ("2026-12-24",)  # type: ignore[attr-defined]
    assert parse().calendar == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize("extra, partner, where", [
    ("holidays: [2026-02-30]", "", "initiative.holidays[0]"),
    ("working_days: [mon, funday]", "", "initiative.working_days[1]"),
    ("working_days: []", "", "initiative.working_days"),
    ("", ", holidays: [someday]", "partners[0].holidays[0]"),
])
def test_bad_calendar_keys_are_refused_with_their_path(extra: str, partner: str,
                                                       where: str) -> None:
    with pytest.raises(InitiativeFileError) as caught:
        parse(extra, partner)
    assert caught.value.path == where


def test_an_agenda_request_waits_for_the_members_next_working_day() -> None:
    from datetime import time

    from bot.meetings.plan import Meeting, occurrences, request_time

    steering = Meeting("steering", "Steering", "C0BACKBONE", "month", 3, 1, "10:00", 90, 3,
                       "move")
    every_day = WorkCalendar()
    (occ,) = occurrences(steering, date(2026, 12, 1), date(2026, 12, 31), every_day)
    assert occ.on == date(2026, 12, 3)
    chicago = ZoneInfo("America/Chicago")
    asked = request_time(occ, time(9), chicago, every_day)
    assert asked == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday, 09:00 in Chicago
    off = WorkCalendar(frozenset({date(2026, 11, 30)}), MON_FRI)  # the partner's holiday
    assert request_time(occ, time(9), chicago, off) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    cancelled = Meeting(**{**steering.__dict__, "on_holiday": "cancel"})
    holiday = WorkCalendar(frozenset({date(2026, 12, 3)}))
    (gone,) = occurrences(cancelled, date(2026, 12, 1), date(2026, 12, 31), holiday)
    assert gone.on is None
