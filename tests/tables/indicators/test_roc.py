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
def test_roc_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "roc"), talib.ROC(b.c, 10), "roc", allow_empty=case in WARMUP_CASES
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_roc_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "roc"), talib.ROC(b.c, 10), "roc")


def test_roc_custom_period():
    b = case_bars("walk_s2_t0.05")
    assert_close(series(run(b, IndicatorParams(roc=3)), "roc"), talib.ROC(b.c, 3), "roc 3")
