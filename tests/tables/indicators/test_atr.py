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
def test_atr_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "atr"),
        talib.ATR(b.h, b.l, b.c, 14),
        "atr",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_atr_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "atr"), talib.ATR(b.h, b.l, b.c, 14), "atr")


def test_atr_custom_period():
    b = case_bars("walk_s1_t0.05")
    out = run(b, IndicatorParams(atr=3))
    assert_close(series(out, "atr"), talib.ATR(b.h, b.l, b.c, 3), "atr 3")
