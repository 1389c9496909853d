"""Measure values as people write them: `72`, `72.5`, `72%`, `1,250`, `1 250`.

What is refused, and why:
- not a number at all, NaN and infinities (a report is a count or a rate someone observed);
- absurd magnitudes: anything of `ABSURD` (one trillion) or more in size. No measure of
  a community initiative counts a trillion of anything, so such a value is a typo (an
  extra zero row, a pasted phone number), not data;
- negatives where the measure's unit cannot be negative. A measure is non-negative
  (counts, rates, percentages) unless its own baseline or target is negative: only then
  has the backbone said that values below zero mean something (a net change, a balance);
- percentages outside 0–100, and a `%` sign on a measure that is not in %;
- ambiguous separators such as `1,25` (a decimal comma or a thousands comma?).

Every refusal is a `ValueRefused` whose message names the problem in one short line.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from bot.runtime.errors import UserError

ABSURD = 1e12
PERCENT = "%"

# Spaces people (and their keyboards) put between thousands: plain, no-break, thin.
_GROUP_SPACES = " \u00a0\u202f\u2009"
_MINUS = "-\u2212\u2013"  # hyphen, minus sign, en dash
_NUMBER = re.compile(
    r"""^(?P<sign>[+\-])?
        (?P<int>\d{1,3}(?:(?P<sep>[,\ ])\d{3})(?:(?P=sep)\d{3})*|\d+)?
        (?:\.(?P<frac>\d*))?$""",
    re.VERBOSE,
)
_NOT_FINITE = re.compile(r"^[+\-]?(nan|inf|infinity|∞)$", re.IGNORECASE)
EXAMPLES = "like 72, 72.5 or 1,250"


class ValueRefused(UserError):
    """A value that cannot be recorded; the message says why."""


def allows_negative(baseline: float | None, target: float | None) -> bool:
    """Negative values make sense only when the measure's own baseline or target is."""
    return any(v is not None and v < 0 for v in (baseline, target))


def parse_value(text: str, *, unit: str = "", allow_negative: bool = False) -> float:
    """The number in `text`, checked against the measure's unit; ValueRefused otherwise."""
    raw = " ".join(text.split()) if text else ""
    shown = raw[:30]
    if not raw:
        raise ValueRefused(f"Give a value, {EXAMPLES}.")
    cleaned = raw
    for dash in _MINUS[1:]:
        cleaned = cleaned.replace(dash, "-")
    for space in _GROUP_SPACES[1:]:
        cleaned = cleaned.replace(space, " ")
    percent = cleaned.endswith(PERCENT)
    if percent:
        cleaned = cleaned[:-1].rstrip()
    if m := _NOT_FINITE.match(cleaned):
        what = "not a number (NaN)" if m.group(1).lower() == "nan" else "infinite"
        raise ValueRefused(f"`{shown}` is {what}; give a finite value, {EXAMPLES}.")
    match = _NUMBER.match(cleaned)
    if match is None or not (match.group("int") or match.group("frac")):
        if re.match(r"^[+\-]?\d+,\d{1,2}$", cleaned):
            raise ValueRefused(f"`{shown}` is ambiguous: write decimals with a dot "
                               "(72.5) and use commas only between thousands (1,250).")
        raise ValueRefused(f"`{shown}` is not a number; write it {EXAMPLES}.")
    digits = (match.group("int") or "0").replace(",", "").replace(" ", "")
    number = f"{match.group('sign') or ''}{digits}.{match.group('frac') or '0'}"
    if len(digits) > 15:
        raise ValueRefused(f"`{shown}` is far too large to be a real value "
                           f"(the limit is under {ABSURD:,.0f}).")
    try:
        value = float(Decimal(number))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueRefused(f"`{shown}` is not a number; write it {EXAMPLES}.") from None
    return check_value(value, unit=unit, allow_negative=allow_negative, percent_sign=percent,
                       shown=shown)


def check_value(value: float, *, unit: str = "", allow_negative: bool = False,
                percent_sign: bool = False, shown: str | None = None) -> float:
    """Range checks shared by typed text and numbers from files."""
    shown = shown if shown is not None else f"{value:g}"
    if not math.isfinite(value):
        what = "not a number (NaN)" if math.isnan(value) else "infinite"
        raise ValueRefused(f"`{shown}` is {what}; give a finite value.")
    if abs(value) >= ABSURD:
        raise ValueRefused(f"`{shown}` is far too large to be a real value "
                           f"(the limit is under {ABSURD:,.0f}).")
    if percent_sign and unit != PERCENT:
        what = f"counted in {unit}" if unit else "not a percentage"
        raise ValueRefused(f"`{shown}` is a percentage, but this measure is {what}; "
                           "give just the number.")
    if value == 0:
        return 0.0  # no "-0" in the record
    if unit == PERCENT and not 0 <= value <= 100:
        raise ValueRefused(f"`{shown}` is outside 0–100%; a percentage cannot be "
                           f"{'negative' if value < 0 else 'more than 100'}.")
    if value < 0 and not allow_negative:
        what = f" (counted in {unit})" if unit else ""
        raise ValueRefused(f"`{shown}` is negative, and this measure{what} cannot be "
                           "below zero.")
    return value


RATE_EXAMPLE = "like 43/60 (43 of 60)"


def parse_rate(text: str) -> tuple[float, float, float]:
    """`43/60` on a rate measure: (numerator, denominator, the percentage 71.67)."""
    raw = " ".join(text.split()) if text else ""
    shown = raw[:30]
    top, slash, bottom = raw.partition("/")
    if not slash:
        raise ValueRefused(f"This measure is a rate: report it as numerator/denominator, "
                           f"{RATE_EXAMPLE}, not `{shown}`.")
    try:
        numerator = parse_value(top.strip())
        denominator = parse_value(bottom.strip())
    except ValueRefused as exc:
        raise ValueRefused(f"`{shown}`: {exc} Report a rate {RATE_EXAMPLE}.") from None
    if denominator == 0:
        raise ValueRefused(f"`{shown}` has a denominator of 0: a rate needs at least one "
                           "case to count from.")
    if numerator > denominator:
        raise ValueRefused(f"`{shown}`: the numerator is larger than the denominator, so it "
                           "is not a rate of at most 100%.")
    return numerator, denominator, 100 * numerator / denominator
