import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from ind_helpers import CASES, EDGE, bar_series, case_bars, random_bars, run_case

from aion.tables.analytics import AnalyticsConfig
from aion.tables.indicators import IndicatorParams, IndicatorSet
from aion.tables.state_codec import dumps

ALL_NAMES = {
    "ema_5", "ema_10", "ema_20", "ema_50", "ema_100", "ema_200", "sma_20",
    "ema_cross_5_20", "ema_cross_20_50", "macd", "adx", "plus_di", "minus_di", "aroon",
    "psar", "rsi", "stoch", "williams_r", "cci", "roc", "bollinger_bands", "atr",
    "keltner", "donchian", "obv", "ad", "cmf", "mfi",
}


def feed(s, b, lo=0, hi=None):
    for i in range(lo, len(b) if hi is None else hi):
        s.update_bar(b.o[i], b.h[i], b.l[i], b.c[i], b.v[i])


def flat_values(d):
    for v in d.values():
        yield from (v.values() if isinstance(v, dict) else [v])


def test_all_names_present_after_warmup():
    b = random_bars(5, n=400)
    s = IndicatorSet()
    feed(s, b)
    s.update_tick(b.c[-1], 10)
    vals = s.values()
    assert set(vals) == ALL_NAMES | {"vwap"}
    assert set(vals["macd"]) == {"macd", "signal", "histogram"}
    assert set(vals["bollinger_bands"]) == {"upper", "middle", "lower"}
    assert set(vals["aroon"]) == {"up", "down", "oscillator"}
    assert set(vals["stoch"]) == {"slowk", "slowd"}
    assert all(type(x) is float for x in flat_values(vals))


@pytest.mark.parametrize("case", sorted(EDGE))
def test_edge_cases_never_produce_nan_or_inf(case):
    for d in run_case(case):
        assert all(math.isfinite(x) for x in flat_values(d))


def test_single_bar_has_only_lookback_zero_values():
    assert set(run_case("single_bar")[0]) == {"obv", "ad"}


@pytest.mark.parametrize("cut", [1, 13, 27, 150, 777])
def test_round_trip_mid_stream_gives_identical_future(cut):
    b = random_bars(21, n=1000)
    a = IndicatorSet()
    feed(a, b, 0, cut)
    a.update_tick(b.c[cut], 7)
    data = a.to_bytes()
    r = IndicatorSet.from_bytes(None, data)
    assert r == a and r.to_bytes() == data
    for i in range(cut, len(b)):
        a.update_bar(b.o[i], b.h[i], b.l[i], b.c[i], b.v[i])
        r.update_bar(b.o[i], b.h[i], b.l[i], b.c[i], b.v[i])
        assert a.values() == r.values()
    assert a.to_bytes() == r.to_bytes()


def test_serialized_size_is_compact():
    s = IndicatorSet()
    assert len(s.to_bytes()) == 13 + 8 * s.layout.size
    assert s.layout.size < 1000


def test_from_bytes_rejects_other_params_and_corruption():
    s = IndicatorSet()
    feed(s, random_bars(3, n=50))
    data = s.to_bytes()
    with pytest.raises(ValueError, match="different params"):
        IndicatorSet.from_bytes(IndicatorParams(rsi=9), data)
    with pytest.raises(ValueError, match="magic"):
        IndicatorSet.from_bytes(None, b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="version"):
        IndicatorSet.from_bytes(None, data[:4] + bytes([99]) + data[5:])
    with pytest.raises(ValueError, match="length"):
        IndicatorSet.from_bytes(None, data[:-8])
    with pytest.raises(ValueError, match="truncated"):
        IndicatorSet.from_bytes(None, data[:5])


def test_same_inputs_same_bytes_and_update_bars_equals_update_bar():
    b = random_bars(8, n=700)
    one, two, batch = IndicatorSet(), IndicatorSet(), IndicatorSet()
    feed(one, b)
    feed(two, b)
    batch.update_bars(b.o, b.h, b.l, b.c, b.v)
    assert one.to_bytes() == two.to_bytes() == batch.to_bytes()
    assert one == batch
    other = IndicatorSet()
    feed(other, b, 0, 699)
    assert other != one


@pytest.mark.parametrize(
    "bar",
    [
        (1.0, float("nan"), 1.0, 1.0, 1.0),
        (1.0, 2.0, 1.0, float("inf"), 1.0),
        (1.0, 1.0, 2.0, 1.5, 1.0),  # low above high
        (1.0, 2.0, 1.0, 1.5, -5.0),  # negative volume
        (1.0, 2.0, 1.0, 1.5, float("nan")),
    ],
)
def test_bad_bar_rejected_state_untouched(bar):
    s = IndicatorSet()
    feed(s, random_bars(4, n=60))
    before = s.to_bytes()
    with pytest.raises(ValueError):
        s.update_bar(*bar)
    assert s.to_bytes() == before


def test_update_bars_stops_at_first_bad_bar():
    b = random_bars(4, n=30)
    h = b.h.copy()
    h[20] = np.nan
    s, ref = IndicatorSet(), IndicatorSet()
    with pytest.raises(ValueError, match="bar 20"):
        s.update_bars(b.o, h, b.l, b.c, b.v)
    feed(ref, b, 0, 20)
    assert s == ref


def test_reset_session_keeps_bar_indicators():
    s = IndicatorSet()
    feed(s, random_bars(6, n=100))
    s.update_tick(100.0, 10.0)
    before = s.values()
    s.reset_session()
    after = s.values()
    assert "vwap" in before and "vwap" not in after
    before.pop("vwap")
    assert before == after


@settings(max_examples=40, deadline=None)
@given(bar_series(min_size=2, max_size=80))
def test_round_trip_anywhere_on_generated_bars(b):
    cut = len(b) // 2
    a = IndicatorSet()
    feed(a, b, 0, cut)
    r = IndicatorSet.from_bytes(None, a.to_bytes())
    feed(a, b, cut)
    feed(r, b, cut)
    assert a.to_bytes() == r.to_bytes()


CHECKPOINTS = (1, 2, 3, 15, 28, 35, 60, 150, 400)


def test_plain_python_path_is_byte_identical_to_numba():
    # The same kernel source run with NUMBA_DISABLE_JIT=1 on a list must give the
    # same state bytes at every checkpoint: the compiled code takes no liberties (no
    # fast-math). Early checkpoints matter: they also catch a stale numba cache (numba
    # does not invalidate kernel.py's cached kernel when only an indicator module it
    # calls was edited; clear tables/indicators/__pycache__ if this fails after an edit).
    b = case_bars("walk_s1_t0.05")
    s = IndicatorSet()
    ours = []
    for i in range(CHECKPOINTS[-1]):
        s.update_bar(b.o[i], b.h[i], b.l[i], b.c[i], b.v[i])
        if i + 1 in CHECKPOINTS:
            s.update_tick(b.c[i], 3.0)
            ours.append(s.state.tobytes().hex())
    code = textwrap.dedent(
        f"""
        import sys, numpy as np
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from ind_helpers import case_bars
        from aion.tables.indicators import IndicatorSet, kernel
        b = case_bars("walk_s1_t0.05")
        s = IndicatorSet()
        st, lay, fp = s.state.tolist(), s.layout.lay.tolist(), s.layout.fp.tolist()
        for i in range({CHECKPOINTS[-1]}):
            bar = (float(a[i]) for a in (b.o, b.h, b.l, b.c, b.v))
            assert kernel.update_bar(st, lay, fp, *bar) == 0
            if i + 1 in {CHECKPOINTS!r}:
                kernel.update_tick(st, lay, float(b.c[i]), 3.0)
                print(np.asarray(st, dtype=np.float64).tobytes().hex())
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    for bar, a, b_ in zip(CHECKPOINTS, ours, out, strict=True):
        assert a == b_, f"numba and plain Python differ after bar {bar}"


def test_cases_cover_the_brief():
    assert {"flat", "zero_volume", "gaps", "single_bar"} <= set(CASES)


@pytest.mark.parametrize("n", [0, 1, 33, 250])
def test_state_component_round_trips_under_its_params(n):
    b = random_bars(8, n=max(n, 1))
    s = IndicatorSet(IndicatorParams(rsi=9))
    feed(s, b, 0, n)
    payload = json.loads(dumps(s.encode()))
    back = IndicatorSet.decode(payload, 1, AnalyticsConfig(indicators=IndicatorParams(rsi=9)))
    assert back == s and back.encode() == payload and back.bars == n
    with pytest.raises(ValueError, match="different params"):
        IndicatorSet.decode(payload, 1, AnalyticsConfig())


def test_sets_of_equal_params_share_their_layout_and_plan():
    a, b = IndicatorSet(IndicatorParams()), IndicatorSet(IndicatorParams())
    assert a.layout is b.layout and a._plan is b._plan
    assert not a._plan_idx.flags.writeable
    feed(a, random_bars(3, n=50))
    assert b.bars == 0 and not b.values()
