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

from aion.tables.indicators import IndicatorParams


def ema_ref(x, n):
    """Textbook EMA seeded with the SMA of the first n values, alpha = 2 / (n + 1)."""
    out = np.full(len(x), np.nan)
    if len(x) < n:
        return out
    out[n - 1] = np.mean(x[:n])
    a = 2.0 / (n + 1)
    for i in range(n, len(x)):
        out[i] = a * x[i] + (1 - a) * out[i - 1]
    return out


def atr_ref(h, l, c, n):  # noqa: E741
    """Wilder ATR: mean of the first n true ranges (from bar 1), then (prev*(n-1)+tr)/n."""
    out = np.full(len(c), np.nan)
    if len(c) <= n:
        return out
    pc = c[:-1]
    tr = np.maximum(h[1:] - l[1:], np.maximum(np.abs(h[1:] - pc), np.abs(l[1:] - pc)))
    out[n] = np.mean(tr[:n])
    for i in range(n + 1, len(c)):
        out[i] = (out[i - 1] * (n - 1) + tr[i - 1]) / n
    return out


def keltner_ref(b, ema_n=20, atr_n=10, mult=2.0):
    mid = ema_ref(b.c, ema_n)
    band = mult * atr_ref(b.h, b.l, b.c, atr_n)
    up, lo = mid + band, mid - band
    return up, np.where(np.isnan(band), np.nan, mid), lo


def check(b, out, *args, allow_empty=False):
    up, mid, lo = keltner_ref(b, *args)
    assert_close(series(out, "keltner", "upper"), up, "keltner upper", allow_empty=allow_empty)
    assert_close(series(out, "keltner", "middle"), mid, "keltner middle", allow_empty=allow_empty)
    assert_close(series(out, "keltner", "lower"), lo, "keltner lower", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_keltner_matches_reference(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_keltner_matches_reference_on_generated_bars(b):
    check(b, run(b))


def test_keltner_custom_parameters():
    b = case_bars("walk_s1_t0.0")
    params = IndicatorParams.from_mapping(
        {"keltner": {"ema_period": 5, "atr_period": 12, "multiplier": 1.5}}
    )
    check(b, run(b, params), 5, 12, 1.5)
