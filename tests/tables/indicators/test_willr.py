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
def test_willr_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "williams_r"),
        talib.WILLR(b.h, b.l, b.c, 14),
        "willr",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_willr_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "williams_r"), talib.WILLR(b.h, b.l, b.c, 14), "willr")


def test_willr_custom_period():
    b = case_bars("walk_s3_t0.05")
    out = run(b, IndicatorParams(williams_r=3))
    assert_close(series(out, "williams_r"), talib.WILLR(b.h, b.l, b.c, 3), "willr 3")
