"""Pure rules for intros (SPEC §12): when a round of pairing falls, and who is paired.

A round falls on `connect.weekday` at `connect.time` in the initiative's zone: every week,
or (every: month) in the `connect.week`-th week of the month. Pairs are two people of
different partners; pairs that share measures come first (most shared first), then any
two of different partners; nobody is in two pairs of a round, and no pair of the last
round is made again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Round:
    key: str  # 2026-12 (monthly) or 2026-W50 (weekly)
    at: datetime


def _at(day: date, clock: str, tz: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tz)


def _month_round(year: int, month: int, config: Mapping[str, Any], tz: ZoneInfo) -> Round:
    first = date(year, month, 1)
    day = first + timedelta(days=(config["weekday"] - first.weekday()) % 7
                            + 7 * (config["week"] - 1))
    return Round(f"{year:04d}-{month:02d}", _at(day, config["time"], tz))


def _week_round(monday: date, config: Mapping[str, Any], tz: ZoneInfo) -> Round:
    day = monday + timedelta(days=config["weekday"])
    year, week, _ = day.isocalendar()
    return Round(f"{year:04d}-W{week:02d}", _at(day, config["time"], tz))


def rounds_around(config: Mapping[str, Any], tz: ZoneInfo, now: datetime) -> tuple[Round, Round]:
    """The latest round at or before `now`, and the next one after it."""
    local = now.astimezone(tz).date()
    if config["every"] == "week":
        monday = local - timedelta(days=local.weekday())
        candidates = [_week_round(monday + timedelta(weeks=w), config, tz) for w in (-1, 0, 1)]
    else:
        months = [(local.year + (local.month - 1 + d) // 12, (local.month - 1 + d) % 12 + 1)
                  for d in (-1, 0, 1)]
        candidates = [_month_round(y, m, config, tz) for y, m in months]
    past = [r for r in candidates if r.at <= now]
    return past[-1], next(r for r in candidates if r.at > now)


@dataclass(frozen=True)
class Person:
    user_id: str
    partner_id: int
    measures: frozenset[int]


def pair(people: Iterable[Person], last_round: set[frozenset[str]]
         ) -> list[tuple[Person, Person, frozenset[int]]]:
    """Greedy pairing: most shared measures first, then the rest across partners."""
    people = sorted(people, key=lambda p: p.user_id)
    candidates = []
    for i, a in enumerate(people):
        for b in people[i + 1:]:
            if a.partner_id == b.partner_id or frozenset((a.user_id, b.user_id)) in last_round:
                continue
            shared = a.measures & b.measures
            candidates.append((-len(shared), a.user_id, b.user_id, a, b, shared))
    taken: set[str] = set()
    pairs = []
    for _, _, _, a, b, shared in sorted(candidates, key=lambda c: c[:3]):
        if a.user_id in taken or b.user_id in taken:
            continue
        taken |= {a.user_id, b.user_id}
        pairs.append((a, b, shared))
    return pairs
