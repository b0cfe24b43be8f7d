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
def test_ad_matches_talib(case):
    b = case_bars(case)
    assert_close(
        series(run_case(case), "ad"),
        talib.AD(b.h, b.l, b.c, b.v),
        "ad",
        allow_empty=case in WARMUP_CASES,
    )


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_ad_matches_talib_on_generated_bars(b):
    assert_close(series(run(b), "ad"), talib.AD(b.h, b.l, b.c, b.v), "ad")


def test_ad_flat_bar_adds_nothing():
    b = case_bars("flat")
    out = run(b, IndicatorParams())
    assert all(d["ad"] == 0.0 for d in out)
