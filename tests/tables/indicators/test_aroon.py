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


def check(b, out, p=14, *, allow_empty=False):
    down, up = talib.AROON(b.h, b.l, p)
    assert_close(series(out, "aroon", "up"), up, "aroon up", allow_empty=allow_empty)
    assert_close(series(out, "aroon", "down"), down, "aroon down", allow_empty=allow_empty)
    assert_close(
        series(out, "aroon", "oscillator"),
        talib.AROONOSC(b.h, b.l, p),
        "aroonosc",
        allow_empty=allow_empty,
    )


@pytest.mark.parametrize("case", CASES)
def test_aroon_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_aroon_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_aroon_custom_period():
    b = case_bars("walk_s2_t0.05")
    check(b, run(b, IndicatorParams(aroon=3)), 3)
