"""Pooled rates, like-for-like changes and the chart's forecast over the same partners."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digest.chart import _same_partners_run
from bot.measures.progress import PartnerValue, aggregate, format_delta, like_for_like

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _v(partner: int, value: float, num: float | None = None,
       den: float | None = None) -> PartnerValue:
    return PartnerValue(partner, value, AT, num, den)


def test_pooled_is_the_sum_of_numerators_over_the_sum_of_denominators() -> None:
    values = [_v(1, 50.0, 450, 900), _v(2, 100.0, 12, 12)]
    assert aggregate(values, "pooled") == pytest.approx(100 * 462 / 912)
    assert aggregate(values, "avg") == 75.0


def test_pooled_without_any_denominator_has_no_value() -> None:
    assert aggregate([_v(1, 50.0)], "pooled") is None


def test_like_for_like_ignores_a_partner_that_started_reporting() -> None:
    change = like_for_like([_v(1, 48.5), _v(2, 60.0)], [_v(1, 50.0)], "avg")
    assert (change.delta, change.partners) == (pytest.approx(-1.5), 1)
    assert format_delta(change.delta or 0, "%") == "−1.5 pts"


def test_like_for_like_with_nobody_in_both_periods_has_no_change() -> None:
    assert like_for_like([_v(2, 60.0)], [_v(1, 50.0)], "sum").delta is None


def test_the_forecast_follows_only_the_latest_points_of_the_same_coverage() -> None:
    known = [(0, 28.0), (1, 29.0), (2, 47.0), (3, 48.0), (4, 49.0)]
    assert _same_partners_run(known, [1, 1, 2, 2, 2]) == [(2, 47.0), (3, 48.0), (4, 49.0)]
    assert _same_partners_run([], []) == []
