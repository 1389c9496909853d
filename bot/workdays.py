"""Working days and holidays (SPEC §11): pure rules, no store and no Slack.

A person's calendar is the initiative's working weekdays and holidays plus their partner's
holidays. Whatever the bot would say to a person on a day off in *their* zone (a reminder,
a nudge, an action reminder, an agenda request) waits for their next working day, at the
same local time it would have had. Default: every day works, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime.clock import as_utc

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_WEEKDAY = frozenset(range(7))
# Far enough to step over any run of holidays a file can hold; a calendar with no working
# day at all is refused when the file is read.
_LOOKAHEAD = 400


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[int] = EVERY_WEEKDAY  # Monday = 0

    def works(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    @property
    def every_day(self) -> bool:
        return not self.holidays and self.working_days == EVERY_WEEKDAY

    def next_working(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        for offset in range(_LOOKAHEAD):
            candidate = day + timedelta(days=offset)
            if self.works(candidate):
                return candidate
        return day

    def move(self, when: datetime, tz: ZoneInfo) -> datetime:
        """`when` if it falls on a working day in `tz`; else the same local time on the
        next working day (wall-clock, so it keeps the local time across DST)."""
        if self.every_day:
            return when
        local = when.astimezone(tz)
        day = self.next_working(local.date())
        if day == local.date():
            return when
        return as_utc(datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz))


EVERY_DAY = WorkCalendar()


def calendar_of(initiative_calendar: Mapping[str, Any] | None,
                partner_holidays: Iterable[str] = ()) -> WorkCalendar:
    """A person's calendar from the stored initiative calendar and their partner's
    holidays (ISO dates)."""
    raw = initiative_calendar or {}
    days = {date.fromisoformat(d) for d in raw.get("holidays") or ()}
    days |= {date.fromisoformat(d) for d in partner_holidays or ()}
    working = raw.get("working_days")
    return WorkCalendar(frozenset(days),
                        frozenset(int(d) for d in working) if working else EVERY_WEEKDAY)
