"""The scorecard's chart as geometry for an inline SVG (the template draws it): the same
content as the digest's chart (bot/digest/chart.py) — the initiative's curve, hollow marks
where not every partner reported, the forecast if nothing changes, target and baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.measures.periods import Period
from bot.public.scorecard_data import FORECAST_PERIODS, MeasureCard

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: float
    period: Period
    partial: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    right: float  # x of the plot's right edge
    bottom: float  # y of the plot's bottom edge
    lines: tuple[str, ...]  # polyline point lists of the curve (broken where no value)
    dots: tuple[Dot, ...]
    forecast: tuple[float, float, float, float] | None
    target_y: float | None
    baseline_y: float | None
    y_ticks: tuple[tuple[float, float], ...]  # (y, value)
    x_ticks: tuple[tuple[float, Period], ...]


def _nice_step(span: float) -> float:
    raw = span / 4 if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def chart(card: MeasureCard) -> Chart | None:
    """None when the measure has no value yet (the page says so in words)."""
    known = [p.value for p in card.points if p.value is not None]
    if not known:
        return None
    values = [*known, *(v for _, v in card.forecast)]
    values += [v for v in (card.target, card.baseline) if v is not None]
    low, high = min(values), max(values)
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    if high == low:
        high = low + step
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    slots = len(card.points) - 1 + FORECAST_PERIODS

    def x(index: float) -> float:
        return round(LEFT + 12 + (right - LEFT - 24) * index / max(slots, 1), 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - TOP) * (value - low) / (high - low), 1)

    lines: list[str] = []
    run: list[str] = []
    dots = []
    for index, point in enumerate(card.points):
        if point.value is None:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
            continue
        run.append(f"{x(index)},{y(point.value)}")
        dots.append(Dot(x(index), y(point.value), point.value, point.period, point.partial))
    if len(run) > 1:
        lines.append(" ".join(run))
    ahead = None
    if card.forecast:
        (x1, v1), (x2, v2) = card.forecast
        ahead = (x(x1), y(v1), x(x2), y(v2))
    count = len(card.points)
    # At most four period labels, counted back from the latest, so they never overlap.
    every = max(1, math.ceil(count / 4))
    tick_indexes = sorted(range(count - 1, -1, -every))
    ticks = []
    tick = low
    while tick <= high + step / 1000:
        ticks.append((y(tick), round(tick, 6)))
        tick += step
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, top=TOP, right=right, bottom=bottom,
        lines=tuple(lines), dots=tuple(dots), forecast=ahead,
        target_y=y(card.target) if card.target is not None else None,
        baseline_y=y(card.baseline) if card.baseline is not None else None,
        y_ticks=tuple(ticks),
        x_ticks=tuple((x(i), card.points[i].period) for i in tick_indexes),
    )
