"""Progress arithmetic for shared measures: plain functions the reports, digest and Home share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class PartnerValue:
    partner_id: int
    value: float
    reported_at: datetime
    numerator: float | None = None  # rate measures
    denominator: float | None = None


def pooled(numerator: float, denominator: float) -> float | None:
    """Σ numerators / Σ denominators, as a percentage; None without any denominator."""
    return 100 * numerator / denominator if denominator > 0 else None


def aggregate(values: Sequence[PartnerValue], rule: str) -> float | None:
    """Combine partners' current values for one period: sum, avg, the latest reported, or
    pooled (Σ numerators / Σ denominators: a hospital with 900 births weighs more than a
    clinic with 12; a value reported without its denominator cannot be pooled)."""
    if not values:
        return None
    if rule == "sum":
        return sum(v.value for v in values)
    if rule == "avg":
        return sum(v.value for v in values) / len(values)
    if rule == "latest":
        return max(values, key=lambda v: (v.reported_at, v.partner_id)).value
    if rule == "pooled":
        rated = [v for v in values if v.numerator is not None and v.denominator]
        return pooled(sum(v.numerator or 0.0 for v in rated),
                      sum(v.denominator or 0.0 for v in rated))
    raise ValueError(f"unknown aggregate rule {rule!r}")


@dataclass(frozen=True)
class Change:
    """A like-for-like change (SPEC §9): over the partners that reported in both periods."""

    delta: float | None
    partners: int  # partners in both periods


def like_for_like(current: Sequence[PartnerValue], previous: Sequence[PartnerValue],
                  rule: str) -> Change:
    """The change between two periods over the partners present in both: a partner that
    started (or stopped) reporting moves the total, not the trend."""
    both = {v.partner_id for v in current} & {v.partner_id for v in previous}
    now = aggregate([v for v in current if v.partner_id in both], rule)
    before = aggregate([v for v in previous if v.partner_id in both], rule)
    if now is None or before is None:
        return Change(None, len(both))
    return Change(now - before, len(both))


def coverage_text(reported: int, expected: int) -> str:
    """`2 of 3 partners`: how many of the measure's partners a figure is made of."""
    return f"{reported} of {expected} partner{'' if expected == 1 else 's'}"


def format_delta(delta: float, unit: str) -> str:
    """+2 pts for percentages (a change of percentage points), +15 families otherwise."""
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if unit == "%":
        return f"{sign}{format_value(abs(delta))} pts"
    return f"{sign}{format_value(abs(delta), unit)}"


def progress_fraction(value: float | None, baseline: float | None, target: float | None
                      ) -> float | None:
    """How far from baseline to target `value` is: 0 at baseline, 1 at target.

    Works for either direction because the sign of (target - baseline) carries it; it is
    negative when things moved the wrong way, and above 1 past the target.
    """
    if value is None or baseline is None or target is None or target == baseline:
        return None
    return (value - baseline) / (target - baseline)


@dataclass(frozen=True)
class Trend:
    delta: float | None  # current - previous
    better: bool | None  # None: unchanged or unknown

    @property
    def arrow(self) -> str:
        if self.delta is None or self.delta == 0:
            return "→"
        return "↑" if self.delta > 0 else "↓"

    @property
    def word(self) -> str:
        if self.delta is None:
            return "no earlier value"
        if self.better is None:
            return "no change"
        return "better" if self.better else "worse"


def trend(current: float | None, previous: float | None, direction: str) -> Trend:
    """The change against the previous period, judged by the measure's direction."""
    if current is None or previous is None:
        return Trend(None, None)
    delta = current - previous
    if delta == 0:
        return Trend(0.0, None)
    return Trend(delta, (delta > 0) == (direction == "up"))


def sparkline(values: Sequence[float | None]) -> str:
    """A one-line chart of recent periods; gaps are shown as a space."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARK[len(SPARK) // 2])
        else:
            out.append(SPARK[round((v - low) / span * (len(SPARK) - 1))])
    return "".join(out)


def format_value(value: float | None, unit: str = "") -> str:
    """72 → '72', 72.456 → '72.5', 1250 → '1,250'; '%' sticks to the number."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if value != 0 and abs(value) < 0.1:
        text = f"{value:.3g}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.0f}%"


def number_text(value: float) -> str:
    """72.0 → '72', 72.25 → '72.25': the shortest text that reads back as the same float."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
