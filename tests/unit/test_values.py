"""Values as people write them (bot.measures.values): properties over many spellings."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.measures.progress import format_value
from bot.measures.values import ABSURD, ValueRefused, allows_negative, parse_value

counts = st.integers(min_value=0, max_value=int(ABSURD) - 1)
separators = st.sampled_from([",", " ", "\u00a0", "\u202f"])


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@given(counts, separators)
@example(1250, ",")
@example(1250, " ")
def test_whole_numbers_read_the_same_plain_or_grouped(n: int, sep: str) -> None:
    assert parse_value(str(n)) == n
    assert parse_value(grouped(n, sep)) == n


@given(st.decimals(min_value=0, max_value=Decimal(10) ** 11, places=3, allow_nan=False))
@example(Decimal("72.5"))
def test_decimals_read_as_written(value: Decimal) -> None:
    assert parse_value(str(value)) == float(value)
    whole, _, frac = f"{value:,}".partition(".")
    assert parse_value(f"{whole}.{frac}" if frac else whole) == float(value)


@given(st.decimals(min_value=0, max_value=100, places=2))
@example(Decimal(72))
def test_percentages_from_0_to_100_are_accepted_with_or_without_the_sign(value: Decimal
                                                                          ) -> None:
    assert parse_value(f"{value}%", unit="%") == float(value)
    assert parse_value(f"{value} %", unit="%") == float(value)
    assert parse_value(str(value), unit="%") == float(value)


@given(st.floats(min_value=100, max_value=1e9, exclude_min=True)
       | st.floats(max_value=0, min_value=-1e9, exclude_max=True))
def test_percentages_outside_0_to_100_are_refused(value: float) -> None:
    text = f"{value:.2f}%"
    assume(float(f"{value:.2f}") not in (0.0, 100.0))
    with pytest.raises(ValueRefused, match="outside 0–100%"):
        parse_value(text, unit="%")


@given(st.integers(min_value=0, max_value=100), st.sampled_from(["families", "diapers", ""]))
def test_a_percent_sign_on_a_measure_not_in_percent_is_refused(n: int, unit: str) -> None:
    with pytest.raises(ValueRefused, match="is a percentage"):
        parse_value(f"{n}%", unit=unit)


@given(st.integers(min_value=1, max_value=int(ABSURD) - 1), st.sampled_from(["-", "\u2212"]))
def test_negatives_are_refused_unless_the_measure_allows_them(n: int, minus: str) -> None:
    with pytest.raises(ValueRefused, match="is negative"):
        parse_value(f"{minus}{n}", unit="families")
    assert parse_value(f"{minus}{n}", allow_negative=True) == -n


def test_a_measure_allows_negatives_only_when_its_baseline_or_target_is_negative() -> None:
    assert not allows_negative(61, 80)
    assert not allows_negative(None, None)
    assert allows_negative(-20, 0)
    assert allows_negative(5, -5)


@given(st.integers(min_value=int(ABSURD), max_value=10 ** 40), st.booleans())
def test_absurd_magnitudes_are_refused(n: int, negative: bool) -> None:
    with pytest.raises(ValueRefused, match="far too large"):
        parse_value(f"{'-' if negative else ''}{n}", allow_negative=True)


@pytest.mark.parametrize("text", ["nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "∞"])
def test_nan_and_infinities_are_refused_by_name(text: str) -> None:
    with pytest.raises(ValueRefused, match=r"NaN|infinite"):
        parse_value(text, allow_negative=True)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "Give a value"),
    ("   ", "Give a value"),
    ("seventy", "is not a number"),
    ("1e5", "is not a number"),
    ("1,25", "is ambiguous"),
    ("12 50", "is not a number"),
    ("1,2500", "is not a number"),
    ("0x10", "is not a number"),
])
def test_unreadable_values_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(ValueRefused, match=reason):
        parse_value(text)


@given(st.text(max_size=40), st.sampled_from(["%", "families", ""]), st.booleans())
@example("1 250", "families", False)
@example("-0", "%", False)
def test_any_text_is_a_sane_number_or_a_reasoned_refusal(text: str, unit: str,
                                                          negative: bool) -> None:
    try:
        value = parse_value(text, unit=unit, allow_negative=negative)
    except ValueRefused as exc:
        assert str(exc) and len(str(exc)) < 200
        return
    assert math.isfinite(value)
    assert abs(value) < ABSURD
    if unit == "%":
        assert 0 <= value <= 100
    if not negative:
        assert value >= 0


@given(st.floats(min_value=0.1, max_value=1e11))
def test_what_the_bot_shows_reads_back_as_the_shown_number(value: float) -> None:
    shown = format_value(value)
    assert parse_value(shown) == float(shown.replace(",", ""))
