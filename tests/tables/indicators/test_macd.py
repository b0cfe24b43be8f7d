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


def check(b, out, fast=12, slow=26, signal=9, *, allow_empty=False):
    m, s, h = talib.MACD(b.c, fast, slow, signal)
    assert_close(series(out, "macd", "macd"), m, "macd", allow_empty=allow_empty)
    assert_close(series(out, "macd", "signal"), s, "signal", allow_empty=allow_empty)
    assert_close(series(out, "macd", "histogram"), h, "histogram", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_macd_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_macd_matches_talib_on_generated_bars(b):
    check(b, run(b))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(5, 13, 4), (13, 5, 4), (3, 10, 1)])
def test_macd_custom_periods_and_swap(fast, slow, signal):
    b = case_bars("walk_s3_t0.05")
    params = IndicatorParams.from_mapping({"macd": {"fast": fast, "slow": slow, "signal": signal}})
    check(b, run(b, params), fast, slow, signal)
