"""The baseline as a forecast, and each measure's verdict (SPEC §10). Plain functions.

**Method.** The forecast is where the curve would go if nothing changed. It is fitted by
ordinary least squares (a straight line, value against the period's first day) to the
measure's figures for the periods that ended by `initiative.start` (the history the
initiative inherited: a period the start falls in is partly the initiative's own work, and
is judged, not fitted), at most the last five years of them; it needs at least three such
periods. An override in initiative.yml (`forecast: {2027: 70}`, or a period key like
`2027-Q1`) replaces the fitted line for the periods it names (a year names each of its
periods).

**Verdict.** The latest figure against the forecast for its period: *on the baseline*
when within the tolerance (1 point for percentages and rates, 2% of the forecast
otherwise), *beating the baseline* when better (by the measure's direction), *below the
baseline* when worse; *not enough data* with no figure, or no override and fewer than
three periods before the start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.measures.periods import years_before

MIN_POINTS = 3
YEARS = 5
BEATING, ON, BELOW, UNKNOWN = ("beating the baseline", "on the baseline", "below the baseline",
                               "not enough data")
MARK = {BEATING: "▲", ON: "●", BELOW: "▼", UNKNOWN: "○"}


@dataclass(frozen=True)
class Verdict:
    word: str
    forecast: float | None = None
    source: str = ""  # "history" (the fitted line) or "override"

    @property
    def text(self) -> str:
        return f"{MARK[self.word]} {self.word}"


def fit(points: Sequence[tuple[date, float]]) -> tuple[float, float] | None:
    """Least squares y = a + b·x, x in days; None with fewer than MIN_POINTS."""
    if len(points) < MIN_POINTS:
        return None
    xs = [p[0].toordinal() for p in points]
    ys = [p[1] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = 0.0 if spread == 0 else sum(
        (x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y - slope * mean_x, slope


def forecast_at(day: date, period_key: str, history: Sequence[tuple[date, float]],
                start: date | None, overrides: Mapping[str, float]
                ) -> tuple[float | None, str]:
    """The forecast for the period beginning `day` (key `period_key`), and its source."""
    for key in (period_key, str(day.year)):
        if key in overrides:
            return float(overrides[key]), "override"
    before = sorted(p for p in history if start is None or p[0] < start)
    if start is not None:
        oldest = years_before(start, YEARS)
        before = [p for p in before if p[0] >= oldest]
    line = fit(before)
    if line is None:
        return None, ""
    return line[0] + line[1] * day.toordinal(), "history"


def verdict(actual: float | None, forecast: float | None, *, direction: str, unit: str,
            rate: bool, source: str = "history") -> Verdict:
    if actual is None or forecast is None:
        return Verdict(UNKNOWN)
    tolerance = 1.0 if (rate or unit == "%") else max(abs(forecast) * 0.02, 1e-9)
    difference = actual - forecast
    if abs(difference) <= tolerance:
        return Verdict(ON, forecast, source)
    better = (difference > 0) == (direction == "up")
    return Verdict(BEATING if better else BELOW, forecast, source)
