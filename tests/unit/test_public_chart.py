"""The scorecard's chart geometry (bot/public/svg.py): a handful of axis labels whatever the
figures, the curve broken where nobody reported, partial coverage marked, the forecast."""

from __future__ import annotations

from datetime import date

import pytest

from bot.measures.periods import period_containing
from bot.public.scorecard_data import MeasureCard, Point, forecast
from bot.public.svg import chart


def card(values: list[float | None], coverage: list[int] | None = None, *,
         target: float | None = None, baseline: float | None = None) -> MeasureCard:
    period = period_containing("monthly", date(2026, 1, 1))
    points = []
    for index, value in enumerate(values):
        points.append(Point(period, value, (coverage or [2] * len(values))[index], 2))
        period = period.next()
    pts = tuple(points)
    return MeasureCard(key="m", name="M", unit="", direction="up", cadence="monthly",
                       baseline=baseline, target=target, target_date=None, points=pts,
                       forecast=forecast(pts), assigned=2)


@pytest.mark.parametrize("values", [
    [19900.0, 19900.0, 19900.0, 7920.0],
    [0.01, 0.02, 0.015],
    [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
    [1e9, 2e9, 1.5e9, 3e9],
    [-3.0, 4.0, None, 7.0],
])
def test_a_few_axis_labels_whatever_the_figures(values: list[float | None]) -> None:
    drawn = chart(card(values, target=values[0], baseline=0.0))
    assert drawn is not None
    assert 2 <= len(drawn.y_ticks) <= 8
    assert [v for _, v in drawn.y_ticks] == sorted(v for _, v in drawn.y_ticks)
    assert 1 <= len(drawn.x_ticks) <= 4
    for _y, value in drawn.y_ticks:
        assert drawn.top <= _y <= drawn.bottom, value


def test_the_curve_breaks_where_nobody_reported_and_marks_partial_coverage() -> None:
    drawn = chart(card([60.0, 62.0, None, 66.0, 68.0, 70.0], [2, 2, 0, 2, 2, 1]))
    assert drawn is not None
    assert len(drawn.lines) == 2
    assert [d.partial for d in drawn.dots] == [False, False, False, False, True]
    # The forecast follows the latest run of points with the latest one's coverage: one
    # point, not a trend.
    assert drawn.forecast is None


def test_a_steady_run_has_a_forecast_ahead() -> None:
    drawn = chart(card([60.0, 62.0, 64.0, 66.0]))
    assert drawn is not None and drawn.forecast is not None
    x1, y1, x2, y2 = drawn.forecast
    assert x2 > x1 and y2 < y1  # rising: higher on the page (smaller y)


def test_no_figure_no_chart() -> None:
    assert chart(card([None, None])) is None
