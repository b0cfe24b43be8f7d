import pytest
import talib
from hypothesis import given, settings
from ind_helpers import CASES, assert_close, bar_series, case_bars, run, run_case, series

from aion.tables.indicators import IndicatorParams

PERIODS = (5, 10, 20, 50, 100, 200)


def check(b, out, periods=PERIODS):
    for p in periods:
        assert_close(series(out, f"ema_{p}"), talib.EMA(b.c, p), f"ema_{p}")


@pytest.mark.parametrize("case", CASES)
def test_ema_matches_talib(case):
    check(case_bars(case), run_case(case))


@settings(max_examples=50, deadline=None)
@given(bar_series(max_size=260))
def test_ema_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_ema_custom_periods():
    b = case_bars("walk_s1_t0.05")
    out = run(b, IndicatorParams(ema_periods=(2, 3, 7, 33), ema_crossovers=()))
    check(b, out, (2, 3, 7, 33))
    assert "ema_5" not in out[-1]
