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
def test_sma_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "sma_20"),
        talib.SMA(b.c, 20),
        "sma_20",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_sma_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "sma_20"), talib.SMA(b.c, 20), "sma_20")


def test_sma_list_of_periods():
    b = case_bars("walk_s2_t0.05")
    out = run(b, IndicatorParams(sma_periods=(2, 9, 50)))
    for p in (2, 9, 50):
        assert_close(series(out, f"sma_{p}"), talib.SMA(b.c, p), f"sma_{p}")
