"""Reporting periods: weekly (`2026-W46`), monthly (`2026-10`), quarterly (`2026-Q3`) and
annual (`2026`, or `FY2027` for a fiscal year).

The reporting period of a measure at instant t is the last *complete* period before t,
in the initiative's time zone. Reports for it are collected during the period after it.

Annual periods start in the initiative's `fiscal_year_start` month (`fy_start`, 1-12).
With 1 (the default) a year is the calendar year and its key is the year (`2026`); with
any other month it is a fiscal year named by the calendar year it *ends* in (`FY2027` =
1 Jul 2026 – 30 Jun 2027 when it starts in July). The two spellings never meet within
one initiative, so keys sort by time within a measure, and `2026` is never ambiguous: a
fiscal initiative refuses it (`parse_period` says which FY to write). A Period carries
its own start, so `next()`, `prev()`, labels and due dates need no fiscal start; only
the functions that *make* a period from a date or a key take `fy_start`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.kinds import Cadence

__all__ = ["CADENCES", "Cadence", "Period"]
CADENCES: tuple[Cadence, ...] = ("weekly", "monthly", "quarterly", "annual")

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_FISCAL = re.compile(r"^FY(\d{4})$", re.IGNORECASE)

# Years a period key may name: far enough back for old baselines, never so far that the
# next period's start would overflow `date` (year 9999) or keys stop sorting as text.
MIN_YEAR, MAX_YEAR = 1900, 2999

# A report counts as on time when it arrives within this many days of its reminder
# (or before the collection period ends, if that is sooner).
DUE_AFTER_DAYS = 7


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day, inclusive
    end: date  # day after the last day (exclusive)
    cadence: Cadence

    @property
    def key(self) -> str:
        if self.cadence == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.cadence == "monthly":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.cadence == "annual":
            if self.start.month == 1:
                return f"{self.start.year:04d}"
            return f"FY{self.last_day.year:04d}"
        return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def fy_start(self) -> int:
        """The month an annual period starts in (1 for other cadences)."""
        return self.start.month if self.cadence == "annual" else 1

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def next(self) -> Period:
        return period_containing(self.cadence, self.end, self.fy_start)

    def prev(self) -> Period:
        return period_containing(self.cadence, self.start - timedelta(days=1), self.fy_start)

    def __str__(self) -> str:
        return self.key


def as_cadence(value: str) -> Cadence:
    """A stored cadence string, checked (the database holds plain strings)."""
    if value not in CADENCES:
        raise ValueError(f"unknown cadence {value!r}")
    return value


def check_fy_start(fy_start: int) -> int:
    if isinstance(fy_start, bool) or not isinstance(fy_start, int) or not 1 <= fy_start <= 12:
        raise ValueError(f"a fiscal year starts in a month 1 to 12, not {fy_start!r}")
    return fy_start


def period_containing(cadence: Cadence, day: date, fy_start: int = 1) -> Period:
    """The period of `cadence` that holds `day`; annual periods start in month `fy_start`."""
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=7), cadence)
    if cadence == "monthly":
        start = day.replace(day=1)
        return Period(start, _add_months(start, 1), cadence)
    if cadence == "quarterly":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(start, _add_months(start, 3), cadence)
    if cadence == "annual":
        check_fy_start(fy_start)
        year = day.year if day.month >= fy_start else day.year - 1
        start = date(year, fy_start, 1)
        return Period(start, _add_months(start, 12), cadence)
    raise ValueError(f"unknown cadence {cadence!r}")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes 28 February in a common year."""
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year - years)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def current_period(cadence: Cadence, instant: datetime, tz: ZoneInfo,
                   fy_start: int = 1) -> Period:
    """The period still running at `instant` (the collection period)."""
    return period_containing(cadence, local_date(instant, tz), fy_start)


def reporting_period(cadence: Cadence, instant: datetime, tz: ZoneInfo,
                     fy_start: int = 1) -> Period:
    """The last complete period before `instant`, in time zone `tz`."""
    return current_period(cadence, instant, tz, fy_start).prev()


def annual_example(fy_start: int) -> str:
    return "2026" if fy_start == 1 else "FY2027"


def parse_period(cadence: Cadence, text: str, fy_start: int = 1) -> Period:
    """Parse a period key of the measure's cadence; ValueError with a readable reason.

    An annual key is `2026` when years are calendar years (`fy_start` 1; `FY2026` is the
    same year, written the fiscal way) and `FY2027` when they start in another month."""
    text = text.strip()
    examples = {"weekly": "2026-W38", "monthly": "2026-09", "quarterly": "2026-Q3",
                "annual": annual_example(fy_start)}
    if cadence == "annual":
        return _parse_year(text, fy_start)
    year_text = text[:4]
    if year_text.isdigit() and not MIN_YEAR <= int(year_text) <= MAX_YEAR:
        raise ValueError(f"{text!r} is not a plausible period: the year must be between "
                         f"{MIN_YEAR} and {MAX_YEAR}")
    if cadence == "weekly" and (m := _WEEK.match(text)):
        year, week = int(m.group(1)), int(m.group(2))
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {week}") from None
        return Period(start, start + timedelta(days=7), cadence)
    if cadence == "monthly" and (m := _MONTH.match(text)):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r} has no month {month}")
        return period_containing(cadence, date(year, month, 1))
    if cadence == "quarterly" and (m := _QUARTER.match(text)):
        return period_containing(cadence, date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1))
    raise ValueError(f"{text!r} is not a {cadence} period; write it like {examples[cadence]}")


def _parse_year(text: str, fy_start: int) -> Period:
    check_fy_start(fy_start)
    fiscal = _FISCAL.match(text)
    m = fiscal or _YEAR.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not an annual period; write it like "
                         f"{annual_example(fy_start)}")
    year = int(m.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{text!r} is not a plausible period: the year must be between "
                         f"{MIN_YEAR} and {MAX_YEAR}")
    if fy_start == 1:
        return period_containing("annual", date(year, 1, 1))
    if not fiscal:
        raise ValueError(f"this initiative's years are fiscal years starting in "
                         f"{date(2000, fy_start, 1):%B}: write FY{year} (ending in {year}) "
                         f"or FY{year + 1} (starting in {year}), not {text!r}")
    return period_containing("annual", date(year, fy_start, 1), fy_start).prev()


def reminder_due_local(period: Period, day: int, at: time, tz: ZoneInfo) -> datetime:
    """When the reminder for reporting period `period` is due, in time zone `tz`.

    `day` counts from 1 within the collection period (the period after `period`): for
    weekly measures 1 is Monday; it is capped at the collection period's length.
    """
    collection = period.next()
    offset = min(max(day, 1), collection.days) - 1
    local_day = collection.start + timedelta(days=offset)
    # fold=0: a wall time that does not exist (spring forward) lands later, never earlier.
    return datetime.combine(local_day, at.replace(fold=0), tzinfo=tz)


def due_date(period: Period, day: int) -> date:
    """The last day a report for `period` counts as on time."""
    collection = period.next()
    reminder_day = collection.start + timedelta(days=min(max(day, 1), collection.days) - 1)
    return min(reminder_day + timedelta(days=DUE_AFTER_DAYS), collection.last_day)


def due_from_start(due: date, start: date | None) -> date:
    """A due date no earlier than DUE_AFTER_DAYS after the initiative's start: on the start
    day partners owe the last complete period, but it is not overdue at once (SPEC §9)."""
    if start is None:
        return due
    return max(due, start + timedelta(days=DUE_AFTER_DAYS))


def owed_since_start(period: Period, start: date | None) -> bool:
    """Whether a report for `period` was ever owed: its collection period had not ended
    when the initiative started (nobody owes the months before it existed)."""
    return start is None or period.next().end > start


def recent_periods(period: Period, count: int) -> list[Period]:
    """`count` periods ending with `period`, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].prev())
    return periods[::-1]
