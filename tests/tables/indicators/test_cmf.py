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


def cmf_ref(b, n=20):
    """sum(MFV) / sum(V) over n bars; MFV = ((c-l)-(h-c))/(h-l)*v, 0 on a flat bar; 0/0 -> 0."""
    rng = b.h - b.l
    mult = np.divide((b.c - b.l) - (b.h - b.c), rng, out=np.zeros(len(b)), where=rng > 0)
    out = np.full(len(b), np.nan)
    if len(b) >= n:
        mfv = sliding_window_view(mult * b.v, n).sum(axis=1)
        vol = sliding_window_view(b.v, n).sum(axis=1)
        out[n - 1 :] = np.divide(mfv, vol, out=np.zeros(len(vol)), where=vol > 0)
    return out


@pytest.mark.parametrize("case", CASES)
def test_cmf_matches_reference(case):
    b = case_bars(case)
    assert_close(series(run_case(case), "cmf"), cmf_ref(b), "cmf", allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_cmf_matches_reference_on_generated_bars(b):
    assert_close(series(run(b), "cmf"), cmf_ref(b), "cmf")


def test_cmf_custom_period():
    b = case_bars("walk_s3_t0.05")
    assert_close(series(run(b, IndicatorParams(cmf=5)), "cmf"), cmf_ref(b, 5), "cmf 5")


def test_cmf_window_without_volume_is_exactly_zero():
    b = case_bars("zero_volume")
    assert all(d["cmf"] == 0.0 for d in run(b) if "cmf" in d)
