"""The digest's week: the ISO week it covers and when it is due, in the initiative's time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import Initiative


@dataclass(frozen=True)
class IsoWeek:
    key: str  # 2026-W46
    start: datetime  # Monday 00:00 in the initiative's time zone, as UTC
    end: datetime  # the next Monday 00:00
    monday: date  # the local date of that Monday


def iso_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The ISO week containing `now` in the initiative's time zone."""
    local = now.astimezone(tz).date()
    year, week, _ = local.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return IsoWeek(f"{year}-W{week:02d}", start.astimezone(UTC), end.astimezone(UTC), monday)


def digest_due(initiative: Initiative, now: datetime) -> datetime:
    """When this ISO week's digest is due: the digest weekday and time, local time.

    Before the first full week after `initiative.start` (its Monday on or after the start)
    nothing is due: the first scheduled digest is that week's, so a new initiative is not
    greeted by a catch-up digest of periods from before it existed (SPEC §9)."""
    tz = ZoneInfo(initiative.timezone)
    local = now.astimezone(tz).date()
    year, week, _ = local.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    start = initiative.start
    if start is not None and monday < start:
        monday = start + timedelta(days=(7 - start.weekday()) % 7)
        year, week, _ = monday.isocalendar()
    day = date.fromisocalendar(year, week, initiative.digest_weekday + 1)
    hour, minute = (int(part) for part in initiative.digest_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)
