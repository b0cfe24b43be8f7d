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
def test_cci_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "cci"),
        talib.CCI(b.h, b.l, b.c, 20),
        "cci",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_cci_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "cci"), talib.CCI(b.h, b.l, b.c, 20), "cci")


def test_cci_custom_period():
    b = case_bars("walk_s1_t0.0")
    out = run(b, IndicatorParams(cci=7))
    assert_close(series(out, "cci"), talib.CCI(b.h, b.l, b.c, 7), "cci 7")
