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


def check(b, out, acc=0.02, mx=0.2, *, allow_empty=False):
    assert_close(series(out, "psar"), talib.SAR(b.h, b.l, acc, mx), "psar", allow_empty=allow_empty)


@pytest.mark.parametrize("case", CASES)
def test_sar_matches_talib(case):
    check(case_bars(case), run_case(case), allow_empty=case in WARMUP_CASES)


@settings(max_examples=50, deadline=None)
@given(bar_series())
def test_sar_matches_talib_on_generated_bars(b):
    check(b, run(b))


@pytest.mark.parametrize(("acc", "mx"), [(0.03, 0.3), (0.1, 0.1), (0.5, 0.2)])
def test_sar_custom_parameters(acc, mx):
    b = case_bars("walk_s3_t0.0")
    params = IndicatorParams.from_mapping({"psar": {"acceleration": acc, "maximum": mx}})
    check(b, run(b, params), acc, mx)
