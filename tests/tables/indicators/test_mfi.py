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
def test_mfi_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "mfi"),
        talib.MFI(b.h, b.l, b.c, b.v, 14),
        "mfi",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_mfi_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "mfi"), talib.MFI(b.h, b.l, b.c, b.v, 14), "mfi")


def test_mfi_custom_period():
    b = case_bars("walk_s2_t0.0")
    out = run(b, IndicatorParams(mfi=4))
    assert_close(series(out, "mfi"), talib.MFI(b.h, b.l, b.c, b.v, 4), "mfi 4")
