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


def check(b, out, p=20, up=2.0, dn=2.0, *, allow_empty=False):
    u, m, lo = talib.BBANDS(b.c, p, up, dn, 0)
    assert_close(series(out, "bollinger_bands", "upper"), u, "upper", allow_empty=allow_empty)
    assert_close(series(out, "bollinger_bands", "middle"), m, "middle", allow_empty=allow_empty)
    assert_close(series(out, "bollinger_bands", "lower"), lo, "lower", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_bbands_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_bbands_matches_talib_on_generated_bars(b):
    check(b, run(b))


def test_bbands_custom_parameters():
    b = case_bars("walk_s3_t0.0")
    params = IndicatorParams.from_mapping(
        {"bollinger_bands": {"period": 10, "nbdev_up": 1.5, "nbdev_dn": 2.5}}
    )
    check(b, run(b, params), 10, 1.5, 2.5)
