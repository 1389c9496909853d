"""Numbers, periods and dates as each language writes them (Babel's locale data)."""

from __future__ import annotations

import functools
from datetime import date

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.measures.periods import Period
from bot.rendering import dates


@functools.cache
def _locale(lang: str) -> Locale:
    """Parsed once per language (Babel parses a locale name on every call otherwise; a
    scorecard formats a couple of thousand numbers)."""
    return Locale.parse(lang)


def number(value: float | None, unit: str, lang: str) -> str:
    """72.456 → '72.5' / '72,5'; 1250 → '1,250' / '1250'; '%' sticks to the number."""
    if value is None:
        return "—"
    # The locale's own pattern: 1,250.5 in English, 1.250,5 in Spanish.
    locale = _locale(lang)
    if float(value).is_integer():
        text = format_decimal(int(value), locale=locale)
    elif abs(value) < 0.1:
        text = format_decimal(float(f"{value:.3g}"), locale=locale)
    else:
        text = format_decimal(round(value, 1), locale=locale)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def change(value: float | None, unit: str, lang: str) -> str:
    """A like-for-like change, signed; a percentage's change is in points (SPEC §9)."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    magnitude = number(abs(value), "" if unit == "%" else unit, lang)
    return f"{sign}{magnitude} pts" if unit == "%" else f"{sign}{magnitude}"


@functools.lru_cache(maxsize=1024)  # a page names the same few periods hundreds of times
def period(p: Period, lang: str) -> str:
    """'Oct 2026' / 'oct 2026', 'Q3 2026' / 'T3 2026', 'week 45 of 2026' / 'S45 2026'.
    English is written as in Slack (bot/rendering/dates.py); Spanish by Babel and by hand."""
    if lang == "en":
        return dates.period_label(p)
    year = p.key[:4]
    if p.cadence == "monthly":
        return format_date(p.start, "MMM y", locale=_locale(lang))
    if p.cadence == "quarterly":
        return ("T" if lang == "es" else "Q") + p.key.split("-Q")[1] + f" {year}"
    if p.cadence == "weekly":
        return ("S" if lang == "es" else "W") + p.key.split("-W")[1] + f" {year}"
    if p.cadence == "annual" and p.start.month != 1:
        # A fiscal year: 'FY2027 (Jul 2026 – Jun 2027)', the months in the page's language.
        last = p.last_day
        return (f"{p.key} ({format_date(p.start, 'MMM y', locale=_locale(lang))} – "
                f"{format_date(last, 'MMM y', locale=_locale(lang))})")
    return p.key


def day(value: date | str | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "long", locale=_locale(lang))
