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


def aggregate(values: Sequence[PartnerValue], rule: str) -> float | None:
    """Combine partners' current values for one period: sum, avg, or the latest reported."""
    if not values:
        return None
    if rule == "sum":
        return sum(v.value for v in values)
    if rule == "avg":
        return sum(v.value for v in values) / len(values)
    if rule == "latest":
        return max(values, key=lambda v: (v.reported_at, v.partner_id)).value
    raise ValueError(f"unknown aggregate rule {rule!r}")


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
