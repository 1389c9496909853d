"""A meeting's invitation as an RFC 5545 file, with its zone's VTIMEZONE (icalendar)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.meetings.plan import Occurrence


def invitation(occ: Occurrence, tz: ZoneInfo, initiative: str, agenda: list[str],
               now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Impact Bot//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{occ.key}@impactbot")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", occ.starts(tz).astimezone(tz))
    event.add("dtend", occ.ends(tz).astimezone(tz))
    event.add("summary", f"{occ.meeting.name} ({initiative})")
    event.add("description", "Agenda:\n" + "\n".join(f"- {item}" for item in agenda)
              if agenda else "Agenda: to be set")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def filename(occ: Occurrence) -> str:
    return f"{occ.key.replace(':', '-')}.ics"
