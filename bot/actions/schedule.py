"""When an action's owner is reminded (SPEC §11): pure, no store and no Slack.

Steps, at the initiative's reminder time in the owner's zone: `before` (3 days before the
due date), `due` (the due day), then `overdue-1` (the day after) and `overdue-2`..
`overdue-4` weekly after that. A step that falls on the owner's day off moves to their next
working day at the same local time (bot/workdays.py). Steps older than the action itself
are never sent; when several are due at once (the bot was down), only the latest is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.runtime.clock import as_utc
from bot.workdays import WorkCalendar

BEFORE_DAYS = 3
MAX_OVERDUE = 4
OVERDUE_EVERY = timedelta(days=7)


def step_times(due: date, at: time, tz: ZoneInfo, calendar: WorkCalendar
               ) -> list[tuple[str, datetime]]:
    """Every step with its instant (UTC), in order."""
    days = [("before", due - timedelta(days=BEFORE_DAYS)), ("due", due)]
    days += [(f"overdue-{n}", due + timedelta(days=1) + (n - 1) * OVERDUE_EVERY)
             for n in range(1, MAX_OVERDUE + 1)]
    steps = [(name, calendar.move(as_utc(datetime.combine(day, at, tzinfo=tz)), tz))
             for name, day in days]
    # A `before` moved onto or past the due day's own DM says nothing new.
    if steps[0][1] >= steps[1][1]:
        steps = steps[1:]
    return steps


def due_step(due: date, at: time, tz: ZoneInfo, calendar: WorkCalendar,
             created_at: datetime, now: datetime) -> tuple[str, datetime] | None:
    """The step to send at `now` (the latest whose time has come), if any."""
    passed = [(name, when) for name, when in step_times(due, at, tz, calendar)
              if as_utc(created_at) <= when <= now]
    return passed[-1] if passed else None


def next_step_time(due: date, at: time, tz: ZoneInfo, calendar: WorkCalendar,
                   created_at: datetime, now: datetime) -> datetime | None:
    later = [when for _, when in step_times(due, at, tz, calendar)
             if when > now and when >= as_utc(created_at)]
    return min(later, default=None)
