"""Pattern mathematics: bounded confidence, outlier cap, expected-move normalisation."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aion.tables.patterns.mathematics import (
    DEFAULT_RATIO_CAP,
    bounded_confidence,
    normalise_expected_move,
    protect_outliers,
)

any_float = st.floats(allow_nan=True, allow_infinity=True)


# ---- bounded_confidence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.85, 0.85),           # inside the bounds: unchanged
        (0.0, 0.0),
        (1.0, 1.0),
        (1.3, 1.0),             # above: 1
        (-0.2, 0.0),            # below: 0
        (math.inf, 1.0),
        (-math.inf, 0.0),
        (math.nan, 0.0),        # NaN: no confidence
    ],
)
def test_confidence_is_clamped_and_nan_is_zero(value: float, expected: float) -> None:
    assert bounded_confidence(value) == expected


def test_reference_call_base_plus_bonus() -> None:
    # The reference's calculate_bounded_confidence(0.8, 0.1): 0.8 + 0.1 = 0.9, inside [0, 1].
    assert bounded_confidence(0.8, 0.1) == pytest.approx(0.9, abs=1e-15)
    # 0.95 + 0.1 = 1.05 -> 1.0; 0.05 - 0.1 = -0.05 -> 0.0; a NaN bonus -> 0.0.
    assert bounded_confidence(0.95, 0.1) == 1.0
    assert bounded_confidence(0.05, -0.1) == 0.0
    assert bounded_confidence(0.5, math.nan) == 0.0


@given(any_float, any_float)
def test_confidence_always_in_unit_interval(value: float, bonus: float) -> None:
    c = bounded_confidence(value, bonus)
    assert 0.0 <= c <= 1.0
    assert not math.isnan(c)


@given(st.floats(min_value=0.0, max_value=1.0))
def test_confidence_inside_bounds_is_identity(value: float) -> None:
    assert bounded_confidence(value) == value


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_confidence_is_monotone(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert bounded_confidence(lo) <= bounded_confidence(hi)


# ---- protect_outliers --------------------------------------------------------------------


def test_reference_outlier_example() -> None:
    # The reference: protect_outliers(15.0, 10.0) -> 10.0 (volume ratio capped at 10).
    assert protect_outliers(15.0, 10.0) == 10.0
    assert DEFAULT_RATIO_CAP == 10.0
    assert protect_outliers(15.0) == 10.0


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (2.5, 2.5),           # below the cap: unchanged
        (10.0, 10.0),         # at the cap
        (10.000001, 10.0),
        (math.inf, 10.0),     # volume over a zero baseline: the cap
        (0.0, 0.0),
        (-0.0, 0.0),
        (-3.0, 0.0),          # impossible (volumes are >= 0): no surge
        (math.nan, 0.0),
        (-math.inf, 0.0),
    ],
)
def test_outlier_cap_cases(ratio: float, expected: float) -> None:
    assert protect_outliers(ratio) == expected


def test_custom_cap() -> None:
    assert protect_outliers(7.0, cap=5.0) == 5.0
    assert protect_outliers(4.0, cap=5.0) == 4.0


@pytest.mark.parametrize("cap", [0.0, -1.0, math.nan, math.inf])
def test_bad_cap_is_refused(cap: float) -> None:
    with pytest.raises(ValueError, match="cap"):
        protect_outliers(2.0, cap=cap)


@given(any_float, st.floats(min_value=1e-6, max_value=1e6))
def test_capped_ratio_bounds(ratio: float, cap: float) -> None:
    r = protect_outliers(ratio, cap)
    assert 0.0 <= r <= cap
    if 0.0 <= ratio <= cap:
        assert r == ratio
    elif ratio > cap:
        assert r == cap


# ---- normalise_expected_move -------------------------------------------------------------


def test_reference_rule_percent_to_decimal() -> None:
    # "expected_move: 1.5 means a 1.5 % move": 1.5 / 100 = 0.015.
    assert normalise_expected_move(1.5) == pytest.approx(0.015, rel=1e-15)
    assert normalise_expected_move("1.5") == pytest.approx(0.015, rel=1e-15)  # from Redis
    assert normalise_expected_move(2) == pytest.approx(0.02, rel=1e-15)


def test_values_are_always_percent_never_guessed_decimal() -> None:
    # 0.015 is 0.015 %, i.e. 0.00015, not "already a decimal 1.5 %".
    assert normalise_expected_move(0.015) == pytest.approx(0.00015, rel=1e-15)
    assert normalise_expected_move(150.0) == pytest.approx(1.5, rel=1e-15)


def test_sign_is_kept() -> None:
    assert normalise_expected_move(-1.2) == pytest.approx(-0.012, rel=1e-15)


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf, "abc", "", True, False,
                                   "nan"])
def test_unusable_values_give_zero(value: object) -> None:
    assert normalise_expected_move(value) == 0.0  # type: ignore[arg-type]


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_normalise_matches_decimal_division(value: float) -> None:
    # Oracle: exact decimal arithmetic, rounded once to a float.
    expected = float(Decimal(value) / Decimal(100))
    got = normalise_expected_move(value)
    assert got == pytest.approx(expected, rel=1e-15, abs=1e-300)
    assert math.copysign(1.0, got) == math.copysign(1.0, value) or value == 0.0
