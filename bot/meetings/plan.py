"""Convened meetings (SPEC §11): when each occurs and when each step is due. Pure.

A meeting recurs every week on its weekday, or every month on the `week`-th weekday. An
occurrence that falls on the initiative's day off moves to the next working day, or is
cancelled, as the file says (`on_holiday`). Steps of an occurrence: the agenda request to
each member `agenda_days_before` days ahead at the reminder time in *their* zone (moved
off their days off), and the agenda post in the channel the day before at the reminder
time in the initiative's zone (or the cancellation notice). Nothing is sent once the
meeting has started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime.clock import as_utc
from bot.workdays import WorkCalendar

HORIZON_DAYS = 45  # occurrences looked at ahead


@dataclass(frozen=True)
class Meeting:
    key: str
    name: str
    channel: str
    every: str  # week | month
    weekday: int  # Monday = 0
    week: int | None
    time: str
    duration_minutes: int
    agenda_days_before: int
    on_holiday: str  # move | cancel
    partners: tuple[str, ...] | None = None  # whose members are asked; None: every partner

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Meeting:
        fields = {name: raw.get(name) for name in cls.__dataclass_fields__}
        fields["partners"] = None if raw.get("partners") is None else tuple(raw["partners"])
        return cls(**fields)  # type: ignore[arg-type]

    def includes(self, partners: frozenset[str], admin: bool) -> bool:
        """Is someone of these partners (an admin: always) one of this meeting's members?"""
        return admin or self.partners is None or not partners.isdisjoint(self.partners)


def meetings_of(calendar: dict[str, Any] | None) -> list[Meeting]:
    return [Meeting.from_dict(m) for m in (calendar or {}).get("meetings") or ()]


@dataclass(frozen=True)
class Occurrence:
    meeting: Meeting
    scheduled: date
    on: date | None  # None: cancelled by a holiday

    @property
    def key(self) -> str:
        return f"{self.meeting.key}:{self.scheduled.isoformat()}"

    def starts(self, tz: ZoneInfo) -> datetime:
        day = self.on or self.scheduled
        return as_utc(datetime.combine(day, time.fromisoformat(self.meeting.time), tzinfo=tz))

    def ends(self, tz: ZoneInfo) -> datetime:
        return self.starts(tz) + timedelta(minutes=self.meeting.duration_minutes)


def _scheduled_days(meeting: Meeting, start: date, end: date) -> list[date]:
    days: list[date] = []
    if meeting.every == "week":
        day = start + timedelta(days=(meeting.weekday - start.weekday()) % 7)
        while day <= end:
            days.append(day)
            day += timedelta(days=7)
        return days
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        first = date(year, month, 1)
        day = first + timedelta(days=(meeting.weekday - first.weekday()) % 7
                                + 7 * ((meeting.week or 1) - 1))
        if start <= day <= end:
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def occurrences(meeting: Meeting, start: date, end: date,
                calendar: WorkCalendar) -> list[Occurrence]:
    out = []
    for day in _scheduled_days(meeting, start, end):
        if calendar.works(day):
            out.append(Occurrence(meeting, day, day))
        elif meeting.on_holiday == "cancel":
            out.append(Occurrence(meeting, day, None))
        else:
            out.append(Occurrence(meeting, day, calendar.next_working(day)))
    return out


def upcoming(meetings: list[Meeting], today: date, calendar: WorkCalendar,
             days: int = HORIZON_DAYS) -> list[Occurrence]:
    """Occurrences from yesterday on (a moved one may be later than scheduled), in order."""
    found = [o for m in meetings
             for o in occurrences(m, today - timedelta(days=7), today + timedelta(days=days),
                                  calendar)]
    return sorted(found, key=lambda o: (o.on or o.scheduled, o.meeting.key))


def request_time(occ: Occurrence, at: time, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    """When a member in `tz` (with `calendar`) is asked for agenda items."""
    day = (occ.on or occ.scheduled) - timedelta(days=occ.meeting.agenda_days_before)
    return calendar.move(as_utc(datetime.combine(day, at, tzinfo=tz)), tz)


def agenda_time(occ: Occurrence, at: time, tz: ZoneInfo) -> datetime:
    """When the agenda (or the cancellation) is posted: the day before, in the initiative's
    zone."""
    day = (occ.on or occ.scheduled) - timedelta(days=1)
    return as_utc(datetime.combine(day, at, tzinfo=tz))
