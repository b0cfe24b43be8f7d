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
def test_obv_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "obv"), talib.OBV(b.c, b.v), "obv", allow_empty=case in WARMUP_CASES
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_obv_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "obv"), talib.OBV(b.c, b.v), "obv")


def test_obv_starts_at_first_volume():
    # TA-Lib's convention, pinned so a "start at 0" change cannot slip in.
    b = case_bars("two_bars")
    out = run(b, IndicatorParams())
    assert out[0]["obv"] == 100.0
    assert isinstance(IndicatorParams(), IndicatorParams)
