import pytest
import talib
from hypothesis import given, settings
from ind_helpers import (
    CASES,
    WARMUP_CASES,
    assert_close,
    bar_series,
    case_bars,
    run,
    run_case,
    series,
)

from aion.tables.indicators import IndicatorParams


def check(b, out, p=14, *, allow_empty=False):
    for key, ref in (("adx", talib.ADX), ("plus_di", talib.PLUS_DI), ("minus_di", talib.MINUS_DI)):
        assert_close(series(out, key), ref(b.h, b.l, b.c, p), key, allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_adx_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_adx_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_adx_custom_period():
    b = case_bars("walk_s1_t0.0")
    check(b, run(b, IndicatorParams(adx=5)), 5)
