import pytest
import talib
from hypothesis import given, settings
from ind_helpers import CASES, assert_close, bar_series, case_bars, run, run_case, series

from aion.tables.indicators import IndicatorParams


def check(b, out, p=14):
    assert_close(series(out, "adx"), talib.ADX(b.h, b.l, b.c, p), "adx")
    assert_close(series(out, "plus_di"), talib.PLUS_DI(b.h, b.l, b.c, p), "plus_di")
    assert_close(series(out, "minus_di"), talib.MINUS_DI(b.h, b.l, b.c, p), "minus_di")


@pytest.mark.parametrize("case", CASES)
def test_adx_matches_talib(case):
    check(case_bars(case), run_case(case))


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_adx_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_adx_custom_period():
    b = case_bars("walk_s1_t0.0")
    check(b, run(b, IndicatorParams(adx=5)), 5)
