"""Issue 16 (SPEC §10): gaps to the best group (points for rates, a ratio for counts) and
their direction; small groups suppressed; the least-squares forecast and each verdict."""

from __future__ import annotations

from datetime import date

import pytest

from bot.measures.equity import figure_text, gap_text, largest_gap, pool, standings
from bot.measures.forecast import BEATING, BELOW, ON, UNKNOWN, fit, forecast_at, verdict


def test_a_count_measures_gap_is_a_ratio_with_its_direction() -> None:
    groups = [("zip", "60085"), ("zip", "60064"), ("zip", "60099")]
    now = {("zip", "60085"): pool([(90, None, None), (30, None, None)], rate=False,
                                  min_group=20),
           ("zip", "60064"): pool([(40, None, None)], rate=False, min_group=20),
           ("zip", "60099"): pool([(12, None, None)], rate=False, min_group=20)}
    before = {("zip", "60085"): (100.0, False), ("zip", "60064"): (25.0, False)}
    rows = {r.group: r for r in standings(groups, now, before, points=False, direction="up")}

    assert rows["60085"].value == 120 and gap_text(rows["60085"], points=False) == \
        "the best group"
    assert rows["60064"].gap == pytest.approx(3.0)  # 120 / 40
    assert gap_text(rows["60064"], points=False) == "3.0× apart from the best group, narrowing"
    assert rows["60099"].suppressed and rows["60099"].value is None  # 12 < 20
    assert figure_text(rows["60099"], "families", 20) == "fewer than 20"
    assert largest_gap(list(rows.values()), points=False) is rows["60064"]


def test_a_rates_gap_is_in_points_and_widens_or_narrows() -> None:
    groups = [("race", "A"), ("race", "B")]
    now = {("race", "A"): pool([(0, 40, 50)], rate=True, min_group=20),
           ("race", "B"): pool([(0, 30, 60)], rate=True, min_group=20)}
    before = {("race", "A"): (80.0, False), ("race", "B"): (70.0, False)}
    b = {r.group: r for r in standings(groups, now, before, points=True, direction="up")}["B"]
    assert b.gap == pytest.approx(30) and b.trend == "widening"  # 10 pts before
    # A measure whose direction is down: the lowest group is the best.
    down = {r.group: r for r in standings(groups, now, before, points=True,
                                          direction="down")}
    assert down["B"].gap == 0 and down["A"].gap == pytest.approx(30)


def test_the_forecast_is_the_least_squares_line_of_the_years_before_the_start() -> None:
    history = [(date(2025, m, 1), 60 + 0.5 * (m - 1)) for m in range(1, 13)]
    history.append((date(2026, 3, 1), 99.0))  # after the start: not part of the fit
    a, b = fit(history[:-1]) or (0, 0)
    assert a + b * date(2025, 7, 1).toordinal() == pytest.approx(63.0, abs=0.05)
    value, source = forecast_at(date(2026, 10, 1), "2026-10", history, date(2026, 1, 1), {})
    assert source == "history" and value == pytest.approx(70.5, abs=0.15)
    assert forecast_at(date(2026, 10, 1), "2026-10", history[:2], date(2026, 1, 1), {}) == (
        None, "")
    assert forecast_at(date(2026, 10, 1), "2026-10", [], None, {"2026": 72.0}) == (
        72.0, "override")
    assert forecast_at(date(2026, 10, 1), "2026-10", [], None,
                       {"2026": 72.0, "2026-10": 74.0}) == (74.0, "override")


@pytest.mark.parametrize(("actual", "forecast", "direction", "word"), [
    (75.0, 70.5, "up", BEATING), (70.9, 70.5, "up", ON), (66.0, 70.5, "up", BELOW),
    (66.0, 70.5, "down", BEATING), (None, 70.5, "up", UNKNOWN), (66.0, None, "up", UNKNOWN),
])
def test_each_verdict(actual: float | None, forecast: float | None, direction: str,
                      word: str) -> None:
    assert verdict(actual, forecast, direction=direction, unit="%", rate=False).word == word


def test_a_count_is_on_the_baseline_within_two_percent() -> None:
    assert verdict(204, 200, direction="up", unit="families", rate=False).word == ON
    assert verdict(205, 200, direction="up", unit="families", rate=False).word == BEATING


def test_an_initiative_that_starts_on_29_february_still_gets_its_forecast() -> None:
    # Five years before 29 Feb 2028 is 28 Feb 2023 (there was no 29th).
    history = [(date(2023 + n, 1, 1), 60.0 + n) for n in range(5)]
    value, source = forecast_at(date(2028, 3, 1), "2028-03", history, date(2028, 2, 29), {})
    assert source == "history" and value is not None and 64.0 < value < 66.0
