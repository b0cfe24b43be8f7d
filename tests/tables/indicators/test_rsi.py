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


@pytest.mark.parametrize("case", CASES)
def test_rsi_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "rsi"), talib.RSI(b.c, 14), "rsi", allow_empty=case in WARMUP_CASES
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_rsi_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "rsi"), talib.RSI(b.c, 14), "rsi")


def test_rsi_custom_period():
    b = case_bars("walk_s1_t0.05")
    assert_close(series(run(b, IndicatorParams(rsi=2)), "rsi"), talib.RSI(b.c, 2), "rsi 2")
