"""initiative.yml's calendar keys (SPEC §11): `initiative.holidays`, `initiative.working_days`
and `partners[].holidays`, checked with the file's path of any mistake."""

from __future__ import annotations

from typing import Any, Protocol

from bot.workdays import WEEKDAY_NAMES

LONG_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_HOLIDAYS = 400


class Checker(Protocol):
    def fail(self, path: str, problem: str) -> Exception: ...

    def day(self, value: Any, path: str) -> Any: ...


def holidays(check: Checker, raw: Any, path: str) -> tuple[str, ...]:
    """ISO dates, sorted and without repeats."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise check.fail(path, "expected a list of dates like [2026-12-25, 2027-01-01]")
    if len(raw) > MAX_HOLIDAYS:
        raise check.fail(path, f"expected at most {MAX_HOLIDAYS} holidays")
    days = {check.day(item, f"{path}[{index}]").isoformat() for index, item in enumerate(raw)}
    return tuple(sorted(days))


def working_days(check: Checker, raw: Any, path: str) -> tuple[int, ...]:
    """Weekday numbers (Monday = 0); none given: every day."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise check.fail(path, "expected a list of weekdays like [mon, tue, wed, thu, fri]")
    days: set[int] = set()
    for index, item in enumerate(raw):
        name = item.strip().lower() if isinstance(item, str) else ""
        if name in LONG_NAMES:
            name = name[:3]
        if name not in WEEKDAY_NAMES:
            raise check.fail(f"{path}[{index}]", f"expected a weekday: one of "
                                                 f"{', '.join(WEEKDAY_NAMES)} (got {item!r})")
        days.add(WEEKDAY_NAMES.index(name))
    return tuple(sorted(days))


def stored(holiday_days: tuple[str, ...], weekdays: tuple[int, ...]) -> dict[str, Any]:
    """The initiative's `calendar` column (bot/workdays.py reads it)."""
    out: dict[str, Any] = {}
    if holiday_days:
        out["holidays"] = list(holiday_days)
    if weekdays and len(weekdays) < len(WEEKDAY_NAMES):
        out["working_days"] = list(weekdays)
    return out
