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

PERIODS = (5, 10, 20, 50, 100, 200)


def check(b, out, periods=PERIODS, *, allow_empty=False):
    for p in periods:
        assert_close(
            series(out, f"ema_{p}"), talib.EMA(b.c, p), f"ema_{p}", allow_empty=allow_empty
        )


@pytest.mark.parametrize("case", CASES)
def test_ema_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_ema_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_ema_custom_periods():
    b = case_bars("walk_s1_t0.05")
    out = run(b, IndicatorParams(ema_periods=(2, 3, 7, 33), ema_crossovers=()))
    check(b, out, (2, 3, 7, 33))
    assert "ema_5" not in out[-1]
