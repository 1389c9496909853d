"""Checking initiative.yml's values, each refusal naming its key path (bot/initiative/file.py)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from bot.runtime.errors import UserError

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,31}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_TEAM = re.compile(r"^T[A-Z0-9]{2,31}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class InitiativeFileError(UserError):
    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source, self.path, self.problem = source, path, problem
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + problem)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> InitiativeFileError:
        return InitiativeFileError(self.source, path, problem)

    def mapping(self, value: Any, path: str, allowed: set[str],
                required: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping with keys {', '.join(sorted(allowed))}")
        for key in value:
            if key not in allowed:
                raise self.fail(_join(path, str(key)),
                                f"unknown key; expected one of {', '.join(sorted(allowed))}")
        for key in sorted(required):
            if key not in value:
                raise self.fail(_join(path, key), "is required")
        return value

    def text(self, value: Any, path: str, *, max_len: int = 200, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.fail(path, "expected text")
        if len(value) > max_len:
            raise self.fail(path, f"expected at most {max_len} characters")
        return value.strip()

    def key(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _KEY.match(value):
            raise self.fail(path, "expected a key of lower-case letters, digits, '-' or '_' "
                                  f"(got {value!r})")
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise self.fail(path, f"expected a number (got {value!r})")
        if abs(value) > 1e12:
            raise self.fail(path, "expected a number below a trillion")
        return float(value)

    def integer(self, value: Any, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(path, f"expected a whole number from {low} to {high} (got {value!r})")
        return value

    def day(self, value: Any, path: str) -> date:
        """A date, quoted or not (`2027-12-31`); an impossible one is refused with its path."""
        example = "expected a date like 2027-12-31"
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if not isinstance(value, str) or not _DATE.match(value.strip()):
            raise self.fail(path, f"{example} (got {value!r})")
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise self.fail(path, f"{example}; {value.strip()!r} is not a day in the "
                                  f"calendar ({exc})") from None

    def choice(self, value: Any, path: str, options: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise self.fail(path, f"expected one of {', '.join(options)} (got {value!r})")
        return value.lower()

    def clock_time(self, value: Any, path: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            # YAML 1.1 reads an unquoted 09:00 as sexagesimal 540.
            return f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str) or not _TIME.match(value.strip()):
            raise self.fail(path, f'expected a 24-hour time like "09:00" (got {value!r})')
        return value.strip()

    def id_list(self, value: Any, path: str, pattern: re.Pattern[str], what: str
                ) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of {what}")
        out: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not pattern.match(item):
                raise self.fail(f"{path}[{index}]", f"expected a {what} (got {item!r})")
            if item in out:
                raise self.fail(f"{path}[{index}]", f"duplicate {what} {item!r}")
            out.append(item)
        return tuple(out)

    def partner_refs(self, value: Any, path: str, partner_keys: set[str]) -> list[str]:
        """A list of partner keys, each known and named once."""
        if not isinstance(value, list):
            raise self.fail(path, "expected a list of partner keys")
        seen: list[str] = []
        for index, ref in enumerate(value):
            if not isinstance(ref, str) or ref not in partner_keys:
                raise self.fail(f"{path}[{index}]",
                                f"unknown partner {ref!r}; expected one of the partners' keys")
            if ref in seen:
                raise self.fail(f"{path}[{index}]", f"duplicate partner {ref!r}")
            seen.append(ref)
        return seen


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


