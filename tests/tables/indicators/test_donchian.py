import numpy as np
import pytest
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
from numpy.lib.stride_tricks import sliding_window_view

from aion.tables.indicators import IndicatorParams


def donchian_ref(b, n=20):
    up = np.full(len(b), np.nan)
    lo = np.full(len(b), np.nan)
    if len(b) >= n:
        up[n - 1 :] = sliding_window_view(b.h, n).max(axis=1)
        lo[n - 1 :] = sliding_window_view(b.l, n).min(axis=1)
    return up, (up + lo) / 2, lo


def check(b, out, n=20, *, allow_empty=False):
    up, mid, lo = donchian_ref(b, n)
    assert_close(series(out, "donchian", "upper"), up, "donchian upper", allow_empty=allow_empty)
    assert_close(series(out, "donchian", "middle"), mid, "donchian middle", allow_empty=allow_empty)
    assert_close(series(out, "donchian", "lower"), lo, "donchian lower", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_donchian_matches_reference(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_donchian_matches_reference_on_generated_bars(b):
    check(b, run(b))


def test_donchian_custom_period():
    b = case_bars("walk_s2_t0.05")
    check(b, run(b, IndicatorParams(donchian=3)), 3)
