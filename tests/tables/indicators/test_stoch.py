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


def check(b, out, fk=14, sk=3, sd=3, *, allow_empty=False):
    k, d = talib.STOCH(b.h, b.l, b.c, fk, sk, 0, sd, 0)
    assert_close(series(out, "stoch", "slowk"), k, "slowk", allow_empty=allow_empty)
    assert_close(series(out, "stoch", "slowd"), d, "slowd", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_stoch_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_stoch_matches_talib_on_generated_bars(b):
    check(b, run(b))


@pytest.mark.parametrize(("fk", "sk", "sd"), [(5, 1, 2), (9, 4, 1), (1, 1, 1)])
def test_stoch_custom_windows(fk, sk, sd):
    b = case_bars("walk_s2_t0.0")
    params = IndicatorParams.from_mapping({"stoch": {"fastk": fk, "slowk": sk, "slowd": sd}})
    check(b, run(b, params), fk, sk, sd)
