"""Periods in words, as people write them after `for` (SPEC §9): pure, no session, no Slack.

Besides the keys `2026-09`, `2026-W38` and `2026-Q3`, a person may write a month name
(`September 2026`, `Sep 2026`, `sept`, `Oct.`), `last month|week|quarter|year`,
`Q3 2026` (or `2026 Q3`, `Q3`), `week 38` (`week 38 2026`, `W38`), a year (`2026`) or a
fiscal year (`FY2027`).

Reading happens in two steps:
- `read_phrase(words)` looks at the words after `for`: how many of them form a period
  phrase (0 when they are ordinary prose, like `for the families`), or `PhraseRefused`
  when they look like a period but are not understood (`for Septmber`, `for 2026-9-1`,
  `for Q5`): a value is never filed under a period the bot guessed.
- `resolve(phrase, cadence, today, fy_start)` turns a phrase into the measure's period,
  refusing a phrase that does not fit the cadence (`for September 2026` on a quarterly
  measure). A month, quarter or week written without a year is the latest one that has
  begun by `today` (`for sept` in November 2026 is 2026-09; `for Dec` is 2025-12).

Annual measures (SPEC §9): `FY2027`, `FY27`, `FY 2027`, `FY-2027` name the year that *ends* in 2027
(with `fy_start` 7: Jul 2026 – Jun 2027); `last year` is the year before the one running.
A bare `2026` is the calendar year when the initiative's years are calendar years
(`fy_start` 1, where `FY2026` is the same year); on a fiscal initiative it is refused with
a hint, since people mean either the year that ends or the one that starts in 2026.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.measures.periods import MAX_YEAR, MIN_YEAR, Cadence, Period, period_containing
from bot.rendering import dates
from bot.runtime.errors import UserError

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
EXAMPLES: dict[str, str] = {"weekly": "2026-W38 or week 38", "monthly": "2026-09 or September 2026",
                            "quarterly": "2026-Q3 or Q3 2026", "annual": "2026 or last year"}
ADVERBS: dict[str, str] = {"weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly",
                           "annual": "annually"}
PhraseKind = Literal["key", "month", "quarter", "week", "relative", "year"]
RELATIVE_UNITS = {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "annual"}

_YEAR = re.compile(r"^(\d{4})$")
_FISCAL = re.compile(r"^fy['’-]?(\d{2}|\d{4})$")
_KEY = re.compile(r"^\d{4}-(w\d{1,2}|q\d|\d{1,2})$")
_QUARTER = re.compile(r"^q(\d)$")
_SHORT_WEEK = re.compile(r"^w(?:k|eek)?(\d{1,2})$")
_NUMBER = re.compile(r"^\d{1,2}$")
# Words that start something date-like: digits with separators, `2026Q3`, `Q3-2026`, …
_DATEISH = re.compile(r"^(\d{4}[-/.]\d|\d{1,2}[-/.]\d{4}|\d{4}[a-z]|q\d|w\d|fy\W?\d)")
_PUNCT = ".,;:!?)("


class PhraseRefused(UserError):
    """Words after `for` that look like a period but are not one the bot understands."""


@dataclass(frozen=True)
class PeriodPhrase:
    """A recognised period phrase, before it meets a measure's cadence."""

    text: str  # the words as typed
    kind: PhraseKind
    year: int | None = None
    number: int | None = None  # month 1-12, quarter 1-4, ISO week, or relative offset
    unit: str | None = None  # relative phrases: week, month, quarter, year
    fiscal: bool = False


def _clean(word: str) -> str:
    return word.strip(_PUNCT).lower()


def _month(word: str) -> int | None:
    """1-12 for a month name or an abbreviation of at least three letters (`sept`)."""
    w = _clean(word)
    if len(w) < 3 or not w.isalpha():
        return None
    for number, name in enumerate(MONTHS, start=1):
        if name.startswith(w):
            return number
    return None


def _monthish(word: str) -> bool:
    """A misspelt month (`Septmber`, `Febuary`): looks like a period, not understood."""
    w = _clean(word)
    return (w.isalpha() and len(w) >= 4
            and bool(difflib.get_close_matches(w, MONTHS, n=1, cutoff=0.8)))


def _year(word: str) -> int | None:
    m = _YEAR.match(_clean(word))
    return int(m.group(1)) if m else None


def _refuse(text: str, why: str = "") -> PhraseRefused:
    reason = f" ({why})" if why else ""
    return PhraseRefused(f"I could not tell which period `for {text}` means{reason}. Write it "
                         "like `for 2026-09`, `for September 2026`, `for last month`, "
                         "`for Q3 2026` or `for week 38`; nothing was recorded.")


def read_phrase(words: list[str]) -> tuple[int, PeriodPhrase] | None:
    """The period phrase at the start of `words` (the words after `for`) and its length;
    None when the words are prose; PhraseRefused when they look like a period but are not
    understood."""
    if not words:
        return None
    if _clean(words[0]) == "the" and len(words) > 2 and _clean(words[1]) in (
            "last", "previous", "past", "this", "current", "next"):
        found = read_phrase(words[1:])
        if found is not None:
            n, inner = found
            return n + 1, PeriodPhrase(" ".join(words[:n + 1]).strip(_PUNCT), inner.kind,
                                       inner.year, inner.number, inner.unit, inner.fiscal)
        return None
    w = [_clean(x) for x in words[:3]]
    first, second = w[0], (w[1] if len(w) > 1 else "")
    text2 = " ".join(words[:2])

    def phrase(n: int, kind: PhraseKind, **kw: object) -> tuple[int, PeriodPhrase]:
        return n, PeriodPhrase(" ".join(words[:n]).strip(_PUNCT), kind, **kw)  # type: ignore[arg-type]

    if _KEY.match(first):
        return phrase(1, "key")
    if (m := _FISCAL.match(first)) or (first == "fy" and (_year(second) or
                                                          re.match(r"^\d{2}$", second))):
        digits = m.group(1) if m else second
        fiscal_year = int(digits) + (2000 if len(digits) == 2 else 0)
        return phrase(1 if m else 2, "year", year=fiscal_year, fiscal=True)
    if (month := _month(first)) is not None:
        if (year := _year(second)) is not None:
            return phrase(2, "month", year=year, number=month)
        if second.isdigit():
            raise _refuse(text2, "the year is written with four digits, like 2026")
        return phrase(1, "month", number=month)
    if (m := _QUARTER.match(first)) or (first == "quarter" and _NUMBER.match(second)):
        number = int(m.group(1)) if m else int(second)
        used = 1 if m else 2
        if not 1 <= number <= 4:
            raise _refuse(" ".join(words[:used]), "a year has quarters 1 to 4")
        after = w[used] if len(w) > used else ""
        if (year := _year(after)) is not None:
            return phrase(used + 1, "quarter", year=year, number=number)
        return phrase(used, "quarter", number=number)
    if (m := _SHORT_WEEK.match(first)) or (first in ("week", "wk") and _NUMBER.match(second)):
        number = int(m.group(1)) if m else int(second)
        used = 1 if m else 2
        after = w[used] if len(w) > used else ""
        if (year := _year(after)) is not None:
            return phrase(used + 1, "week", year=year, number=number)
        return phrase(used, "week", number=number)
    if first in ("last", "previous", "past", "this", "current", "next"):
        unit = second[:-1] if second.endswith("s") else second
        if unit in RELATIVE_UNITS:
            offset = {"this": 0, "current": 0, "next": 1}.get(first, -1)
            return phrase(2, "relative", number=offset, unit=unit)
        return None  # `for last time`: prose
    if (year := _year(first)) is not None:
        if (m := _QUARTER.match(second)) is not None:
            if not 1 <= int(m.group(1)) <= 4:
                raise _refuse(text2, "a year has quarters 1 to 4")
            return phrase(2, "quarter", year=year, number=int(m.group(1)))
        if (month := _month(second)) is not None:
            return phrase(2, "month", year=year, number=month)
        return phrase(1, "year", year=year)
    if _DATEISH.match(first) or _monthish(first):
        raise _refuse(words[0].strip(_PUNCT))
    if first.isalpha() and _year(second) is not None:
        raise _refuse(text2)  # `for Spring 2026`, `for Septmbr 2026`
    return None


# --- meeting the measure's cadence -----------------------------------------------------------


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PhraseRefused(f"`{text}` is not a plausible period: the year must be between "
                            f"{MIN_YEAR} and {MAX_YEAR}.")


def examples(cadence: Cadence, fy_start: int = 1) -> str:
    """How to write a period of `cadence`, for the messages."""
    if cadence == "annual" and fy_start != 1:
        return "FY2027 or last year"
    return EXAMPLES[cadence]


def adverb(cadence: Cadence) -> str:
    return ADVERBS[cadence]


def _wrong_cadence(phrase: PeriodPhrase, what: str, cadence: Cadence,
                   fy_start: int = 1) -> PhraseRefused:
    return PhraseRefused(f"`for {phrase.text}` is a {what}, but this measure is reported "
                         f"{adverb(cadence)}: write its period like "
                         f"{examples(cadence, fy_start)}. Nothing was recorded.")


def _year_period(phrase: PeriodPhrase, fy_start: int) -> Period:
    """`2026`, `FY2027`, `FY27` on an annual measure (the phrase's year is checked)."""
    assert phrase.year is not None
    year = phrase.year
    # FY2027 is the year that *ends* in 2027; with calendar years, 2027 itself.
    ending = period_containing("annual", date(year, 1, 1), fy_start)
    if fy_start == 1 or phrase.fiscal:
        return ending
    starting = ending.next()
    raise PhraseRefused(f"`for {phrase.text}`: this initiative's years are fiscal years "
                        f"starting in {starting.start:%B}, so say {period_words(ending)} or "
                        f"{period_words(starting)}. Nothing was recorded.")


def resolve(phrase: PeriodPhrase, cadence: Cadence, today: date, fy_start: int = 1) -> Period:
    """The period of cadence `cadence` that `phrase` names, as of `today` (local date);
    annual periods start in month `fy_start` (the initiative's fiscal_year_start)."""
    from bot.measures.periods import parse_period  # the keys' own rules and messages

    if phrase.kind == "key":
        try:
            return parse_period(cadence, phrase.text, fy_start)
        except ValueError as exc:
            raise PhraseRefused(f"{exc}. Nothing was recorded.") from None
    if phrase.year is not None:
        _check_year(phrase.year, phrase.text)
    if phrase.kind == "relative":
        assert phrase.unit is not None and phrase.number is not None
        if RELATIVE_UNITS[phrase.unit] != cadence:
            raise _wrong_cadence(phrase, phrase.unit, cadence, fy_start)
        period = period_containing(cadence, today, fy_start)
        for _ in range(abs(phrase.number)):
            period = period.next() if phrase.number > 0 else period.prev()
        return period
    if phrase.kind == "month":
        assert phrase.number is not None
        if cadence != "monthly":
            raise _wrong_cadence(phrase, "month", cadence, fy_start)
        year = phrase.year
        if year is None:
            year = today.year if phrase.number <= today.month else today.year - 1
        return period_containing(cadence, date(year, phrase.number, 1))
    if phrase.kind == "quarter":
        assert phrase.number is not None
        if cadence != "quarterly":
            raise _wrong_cadence(phrase, "quarter", cadence, fy_start)
        year = phrase.year
        if year is None:
            year = today.year if phrase.number <= (today.month - 1) // 3 + 1 else today.year - 1
        return period_containing(cadence, date(year, (phrase.number - 1) * 3 + 1, 1))
    if phrase.kind == "week":
        assert phrase.number is not None
        if cadence != "weekly":
            raise _wrong_cadence(phrase, "week", cadence, fy_start)
        year = phrase.year
        if year is None:
            iso_year, iso_week, _ = today.isocalendar()
            year = iso_year if phrase.number <= iso_week else iso_year - 1
        try:
            start = date.fromisocalendar(year, phrase.number, 1)
        except ValueError:
            raise PhraseRefused(f"{year} has no ISO week {phrase.number}; nothing was "
                                "recorded.") from None
        return Period(start, start + timedelta(days=7), cadence)
    if cadence == "annual":
        return _year_period(phrase, fy_start)
    raise _wrong_cadence(phrase, "fiscal year" if phrase.fiscal else "whole year", cadence)


def period_label(period: Period) -> str:
    """The days a period covers, as every screen writes them (bot/rendering/dates.py):
    `Sep 2026`, `Jul–Sep 2026`, `14–20 Sep 2026`, `Jan–Dec 2026`, `Jul 2026–Jun 2027`."""
    return dates.period_span(period)


def period_words(period: Period) -> str:
    """The one wording every screen uses for a period: `2026-09 (Sep 2026)`."""
    return f"{period.key} ({period_label(period)})"
