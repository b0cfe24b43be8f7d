"""Volume/price averages and Turtle readiness, checked against a plain pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.tables.volume_averages import (
    AveragesParams,
    DailySeries,
    compute_averages,
)

DAY0 = 20_000  # an IST epoch-day (2024-10-04)


def series(close, volume, high=None, low=None, days=None, symbol="NSE:TEST") -> DailySeries:
    close = np.asarray(close, dtype=float)
    n = len(close)
    return DailySeries(
        symbol=symbol,
        days=np.asarray(days if days is not None else DAY0 + np.arange(n), dtype=np.int64),
        open=close.copy(),
        high=np.asarray(high if high is not None else close * 1.01, dtype=float),
        low=np.asarray(low if low is not None else close * 0.99, dtype=float),
        close=close,
        volume=np.asarray(volume, dtype=float),
    )


def pandas_oracle(s: DailySeries, proximity: float = 0.02) -> dict:
    df = pd.DataFrame(
        {"high": s.high, "low": s.low, "close": s.close, "volume": s.volume},
        index=pd.to_datetime(s.days, unit="D"),
    )
    last20, last55 = df.tail(20), df.tail(55)
    c = df["close"].iloc[-1]
    h55, l55 = last55["high"].max(), last55["low"].min()
    ready = len(df) >= 55 and (c >= h55 * (1 - proximity) or c <= l55 * (1 + proximity))
    return {
        "avg_volume_20d": last20["volume"].mean(),
        "avg_volume_55d": last55["volume"].mean(),
        "avg_price_20d": last20["close"].mean(),
        "avg_price_55d": last55["close"].mean(),
        "high_55d": h55,
        "low_55d": l55,
        "turtle_ready": bool(ready),
        "days_20d": len(last20),
        "days_55d": len(last55),
        "as_of": df.index[-1].date().isoformat(),
    }


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 140),
    seed=st.integers(0, 2**32 - 1),
    zero_frac=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_matches_pandas_on_random_histories(n, seed, zero_frac):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    high = close * (1 + rng.uniform(0, 0.03, n))
    low = close * (1 - rng.uniform(0, 0.03, n))
    volume = rng.integers(0, 5_000_000, n).astype(float)
    volume[rng.uniform(size=n) < zero_frac] = 0.0
    gaps = rng.integers(1, 4, n)  # weekends/holidays: windows count sessions, not days
    s = series(close, volume, high, low, days=DAY0 + np.cumsum(gaps))
    got = compute_averages(s)
    want = pandas_oracle(s)
    assert got is not None
    for key in ("avg_volume_20d", "avg_volume_55d", "avg_price_20d", "avg_price_55d"):
        assert getattr(got, key) == pytest.approx(want[key], rel=1e-12, abs=1e-9), key
    assert got.high_55d == want["high_55d"]
    assert got.low_55d == want["low_55d"]
    assert got.turtle_ready == want["turtle_ready"]
    assert (got.days_20d, got.days_55d, got.days_available) == (
        want["days_20d"],
        want["days_55d"],
        n,
    )
    assert got.as_of == want["as_of"]
    assert got.complete_20d == (n >= 20)
    assert got.complete_55d == (n >= 55)


def test_fewer_than_20_days_averages_what_exists():
    s = series([10, 11, 12], [100, 200, 600])
    a = compute_averages(s)
    assert a.avg_volume_20d == a.avg_volume_55d == 300.0
    assert a.avg_price_20d == a.avg_price_55d == 11.0
    assert (a.days_20d, a.days_55d, a.days_available) == (3, 3, 3)
    assert not a.complete_20d and not a.turtle_ready and a.turtle_side is None
    d = a.to_dict()
    assert d["complete_20d"] is False and d["days_20d"] == 3


def test_between_20_and_55_days():
    vol = np.arange(1, 31, dtype=float)  # 30 sessions
    a = compute_averages(series(np.full(30, 50.0), vol))
    assert a.avg_volume_20d == vol[-20:].mean()
    assert a.avg_volume_55d == vol.mean()
    assert (a.days_20d, a.days_55d) == (20, 30)
    assert a.complete_20d and not a.complete_55d


def test_min_days_gives_none():
    a = compute_averages(series([10, 11], [1, 2]), AveragesParams(min_days=5))
    assert a.avg_volume_20d is None and a.avg_price_55d is None
    assert a.days_available == 2
    assert a.to_dict()["avg_volume_20d"] is None


def test_single_day_symbol():
    a = compute_averages(series([123.5], [42]))
    assert a.avg_volume_20d == 42.0 and a.avg_price_55d == 123.5
    assert a.as_of == "2024-10-04"
    assert a.last_close == 123.5


def test_zero_volume_counts_as_session():
    a = compute_averages(series([10] * 4, [0, 0, 0, 400]))
    assert a.avg_volume_20d == 100.0
    z = compute_averages(series([10] * 3, [0, 0, 0]))
    assert z.avg_volume_20d == 0.0


def test_as_of_cuts_history():
    s = series([10, 11, 12, 13], [1, 2, 3, 100])
    a = compute_averages(s, as_of_day=DAY0 + 2)
    assert a.avg_volume_20d == 2.0 and a.days_available == 3
    assert compute_averages(s, as_of_day=DAY0 - 1) is None


def flat_then(last_close: float, n: int = 60) -> DailySeries:
    close = np.full(n, 100.0)
    close[-1] = last_close
    high = np.maximum(close, 100.0) + 0.0
    high[:-1] = 110.0  # channel 90..110
    low = np.minimum(close, 100.0)
    low[:-1] = 90.0
    return series(close, np.ones(n), high=high, low=low)


@pytest.mark.parametrize(
    ("last", "ready", "side"),
    [
        (110 * 0.98, True, "long"),  # exactly 2 % under the 55-day high
        (110 * 0.98 - 0.01, False, None),
        (90 * 1.02, True, "short"),  # exactly 2 % above the 55-day low
        (90 * 1.02 + 0.01, False, None),
        (100.0, False, None),
        (115.0, True, "long"),  # today's close made a new high
    ],
)
def test_turtle_ready_boundaries(last, ready, side):
    a = compute_averages(flat_then(last))
    assert a.turtle_ready is ready
    assert a.turtle_side == side


def test_turtle_needs_55_sessions():
    s = flat_then(110.0, n=54)
    assert compute_averages(s).turtle_ready is False
    assert compute_averages(flat_then(110.0, n=55)).turtle_ready is True


def test_turtle_narrow_channel_picks_nearer_edge():
    n = 55
    close = np.full(n, 100.0)
    close[-1] = 100.5
    s = series(close, np.ones(n), high=np.full(n, 101.0), low=np.full(n, 99.5))
    a = compute_averages(s)
    assert a.turtle_ready and a.turtle_side == "long"
    close[-1] = 99.7
    assert (
        compute_averages(series(close, np.ones(n), np.full(n, 101.0), np.full(n, 99.5))).turtle_side
        == "short"
    )


def test_old_bad_rows_do_not_matter_but_window_rows_do():
    vol = np.ones(80)
    vol[0] = -5  # outside the 55-session window
    assert compute_averages(series(np.full(80, 10.0), vol)).avg_volume_55d == 1.0
    vol[-1] = -5
    with pytest.raises(ValueError, match="negative volume"):
        compute_averages(series(np.full(80, 10.0), vol))


def test_unsorted_days_rejected():
    with pytest.raises(ValueError, match="strictly increasing"):
        compute_averages(series([1, 2], [1, 1], days=[DAY0 + 1, DAY0]))


def test_params_from_mapping():
    p = AveragesParams.from_mapping({"min_days": 3, "turtle_proximity": 0.05})
    assert p == AveragesParams(min_days=3, turtle_proximity=0.05)
    assert AveragesParams.from_mapping(None) == AveragesParams()
    with pytest.raises(ValueError, match="unknown volume_averages setting"):
        AveragesParams.from_mapping({"min_dayz": 3})
    with pytest.raises(ValueError, match="turtle_proximity"):
        AveragesParams(turtle_proximity=1.5)


def test_deterministic():
    rng = np.random.default_rng(7)
    s = series(rng.uniform(10, 20, 70), rng.uniform(0, 1e7, 70))
    assert compute_averages(s) == compute_averages(s)
