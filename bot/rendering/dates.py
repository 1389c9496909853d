"""Dates as people read them: one wording on every screen (Slack, Home, digest, console).

The rule (docs/handbook.md, "Dates" says the same):

- A day is written day, month: `3 Nov`. When the day is something to act on or attend (a
  due date, a meeting, when reminders resume) its weekday comes first: `Tue 3 Nov`.
- The year is added (`Tue 3 Nov 2027`) only when the day is not in the reader's current
  year, or when there is no "today" to compare with (the console's clock, the day an
  initiative started).
- A time of day is 24-hour with its zone: `10:00 (America/Chicago)`; a moment is the day
  and the time: `Thu 3 Dec at 10:00 (America/Chicago)`.
- A period is named by its cadence, always with its year: `Oct 2026`, `Q3 2026`,
  `week 46 of 2026`; the days it covers are `Oct 2026`, `Jul–Sep 2026`, `9–15 Nov 2026`.
- A range of days: `9–15 Nov`, `28 Sep – 4 Oct`, `28 Dec 2026 – 3 Jan 2027`.

Machine formats (CSV and JSON exports, log lines, period keys such as `2026-10`) stay ISO
and are not written here. The public pages format dates with Babel in the reader's
language (bot/public/formats.py); only their hand-made English matches this module.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.measures.periods import Period

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def month(number: int) -> str:
    """1 → 'Jan' (a chart's tick, a period's name)."""
    return MONTHS[number - 1]


def _year(d: date, today: date | None) -> str:
    return "" if today is not None and d.year == today.year else f" {d.year}"


def day(d: date, today: date | None = None) -> str:
    """A day: '3 Nov' ('3 Nov 2027' outside today's year, or without a today)."""
    return f"{d.day} {month(d.month)}{_year(d, today)}"


def action_day(d: date, today: date | None = None) -> str:
    """A day to act on (due, meeting, resume): 'Tue 3 Nov' ('Tue 3 Nov 2027')."""
    return f"{WEEKDAYS[d.weekday()]} {day(d, today)}"


def zone_name(moment: datetime) -> str:
    """The zone of an aware datetime: its IANA key ('America/Chicago'), else 'UTC'."""
    tz = moment.tzinfo
    return str(getattr(tz, "key", None) or moment.tzname() or "UTC")


def time_of_day(moment: datetime) -> str:
    """'10:00 (America/Chicago)': 24-hour, in the moment's own zone."""
    return f"{moment:%H:%M} ({zone_name(moment)})"


def moment(value: datetime, today: date | None = None) -> str:
    """A day and a time to act on: 'Thu 3 Dec at 10:00 (America/Chicago)'."""
    return f"{action_day(value.date(), today)} at {time_of_day(value)}"


def date_range(first: date, last: date, today: date | None = None) -> str:
    """'9–15 Nov', '28 Sep – 4 Oct', '28 Dec 2026 – 3 Jan 2027' (both days inclusive)."""
    if first == last:
        return day(first, today)
    if first.year != last.year:
        return f"{day(first)} – {day(last)}"
    year = _year(last, today)
    if first.month == last.month:
        return f"{first.day}–{last.day} {month(last.month)}{year}"
    return f"{first.day} {month(first.month)} – {last.day} {month(last.month)}{year}"


def period_label(period: Period) -> str:
    """A period's name, always with its year: one branch per cadence.
    2026-10 → 'Oct 2026', 2026-Q3 → 'Q3 2026', 2026-W46 → 'week 46 of 2026', 2026 → '2026',
    FY2027 → 'FY2027 (Jul 2026–Jun 2027)'."""
    if period.cadence == "monthly":
        return f"{month(period.start.month)} {period.start.year}"
    if period.cadence == "quarterly":
        year, quarter = period.key.split("-")
        return f"{quarter} {year}"
    if period.cadence == "weekly":
        year, week = period.key.split("-W")
        return f"week {int(week)} of {year}"
    if period.cadence == "annual":  # a calendar year is its key; a fiscal year says its months
        return period.key if period.start.month == 1 else f"{period.key} ({period_span(period)})"
    return period.key  # a cadence without its own branch yet is shown by its key


def period_span(period: Period) -> str:
    """The days a period covers: 'Oct 2026', 'Jul–Sep 2026', '9–15 Nov 2026', 'Jan–Dec 2026',
    'Jul 2026–Jun 2027'."""
    last = period.last_day
    if period.cadence == "quarterly":
        return f"{month(period.start.month)}–{month(last.month)} {last.year}"
    if period.cadence == "weekly":
        return date_range(period.start, last)
    if period.cadence == "annual":  # `Jan–Dec 2026`, `Jul 2026–Jun 2027`
        if period.start.year == last.year:
            return f"{month(period.start.month)}–{month(last.month)} {last.year}"
        return f"{month(period.start.month)} {period.start.year}–{month(last.month)} {last.year}"
    return period_label(period)
