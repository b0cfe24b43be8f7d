"""Bar features: Wilder ATR(20) against TA-Lib, EWMA sigma and relative volume against
reference sums, session reset, opening range, encode/decode.

TA-Lib's ``ATR(high, low, close, 20)`` takes its first true range at index 1 (it needs a
previous close) and seeds with the mean of ``TR[1..20]``, so its first value is at index 20.
``BarFeatures`` counts the first bar's true range as its ``high - low`` and seeds with the
mean of ``TR[0..19]``: its first value is after bar 19. Feeding TA-Lib one extra bar in
front, flat at a price inside the first bar's range (so TA-Lib's ``TR[1]`` is the first
bar's ``high - low``), makes the two sequences the same with an offset of exactly one
index: ``features.atr`` after bar ``i`` equals ``talib.ATR(...)[i + 1]`` for every
``i >= 19``, and both are undefined before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from bar_paths import ref_sigma, ref_vol_base
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.tables.patterns.features import (
    ATR_PERIOD,
    HISTORY,
    OPENING_RANGE_BARS,
    WARM_BARS,
    BarFeatures,
    BarRow,
)
from aion.tables.timeutil import ist_day, ist_wall_ns

MIN_MS = 60_000
T0_MS = ist_wall_ns(2025, 11, 18, 9, 15) // 1_000_000


def random_rows(seed: int, n: int, t0_ms: int = T0_MS) -> list[BarRow]:
    """A random walk of ``n`` bars with wicks, gaps between closes and opens, random volume."""
    rng = np.random.default_rng(seed)
    rows, close = [], 500.0
    for i in range(n):
        open_ = close * math.exp(rng.normal(0, 0.001))
        close = open_ * math.exp(rng.normal(0, 0.002))
        high = max(open_, close) * (1 + abs(rng.normal(0, 0.001)))
        low = min(open_, close) * (1 - abs(rng.normal(0, 0.001)))
        rows.append(BarRow(t0_ms + i * MIN_MS, open_, high, low, close,
                           float(rng.integers(100, 10_000)), float(rng.uniform(0.6, 2.0))))
    return rows


def day_of(row: BarRow) -> int:
    return int(ist_day(row.start_ms * 1_000_000))


def run(rows: list[BarRow], f: BarFeatures | None = None) -> tuple[BarFeatures, list[dict]]:
    """Feed rows; the features after each (atr, sigma, vol_base, count)."""
    f = BarFeatures() if f is None else f
    seen = []
    for r in rows:
        f.update(r, day_of(r))
        seen.append({"atr": f.atr, "sigma": f.sigma, "vol_base": f.vol_base,
                     "count": f.count})
    return f, seen


# ---- ATR against TA-Lib -----------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_atr_matches_talib_with_one_leading_bar(seed: int) -> None:
    rows = random_rows(seed, 200)
    _, seen = run(rows)
    first = rows[0]
    pad = (first.high + first.low) / 2  # inside the first bar's range
    high = np.array([pad] + [r.high for r in rows])
    low = np.array([pad] + [r.low for r in rows])
    close = np.array([pad] + [r.close for r in rows])
    oracle = talib.ATR(high, low, close, timeperiod=ATR_PERIOD)
    # Both undefined before bar 19 (oracle index 20).
    assert all(s["atr"] is None for s in seen[:ATR_PERIOD - 1])
    assert np.isnan(oracle[:ATR_PERIOD]).all()
    for i in range(ATR_PERIOD - 1, len(rows)):
        assert seen[i]["atr"] == pytest.approx(oracle[i + 1], rel=1e-10), i


def test_atr_without_padding_differs_only_by_the_decaying_seed() -> None:
    """Unpadded, TA-Lib's seed skips the first bar: the gap is the seed gap times (19/20)^k."""
    rows = random_rows(7, 120)
    _, seen = run(rows)
    oracle = talib.ATR(np.array([r.high for r in rows]), np.array([r.low for r in rows]),
                       np.array([r.close for r in rows]), timeperiod=ATR_PERIOD)
    gap0 = seen[ATR_PERIOD]["atr"] - oracle[ATR_PERIOD]
    for k, i in enumerate(range(ATR_PERIOD, len(rows))):
        gap = seen[i]["atr"] - oracle[i]
        assert gap == pytest.approx(gap0 * (19 / 20) ** k, rel=1e-6, abs=1e-12)


# ---- sigma and relative volume against reference sums ----------------------------------

@pytest.mark.parametrize("seed", [4, 5])
def test_sigma_is_the_ewma_of_squared_log_returns(seed: int) -> None:
    rows = random_rows(seed, 80)
    _, seen = run(rows)
    closes = [r.close for r in rows]
    for i in range(len(rows)):
        want = ref_sigma(closes[:i + 1])
        if want is None:
            assert seen[i]["sigma"] is None, i
        else:
            assert seen[i]["sigma"] == pytest.approx(want, rel=1e-9), i
    # Known from the 10th return, i.e. after the 11th bar.
    assert seen[WARM_BARS - 1]["sigma"] is None and seen[WARM_BARS]["sigma"] is not None


@pytest.mark.parametrize("seed", [6, 8])
def test_rel_volume_is_volume_over_time_of_day_expectation(seed: int) -> None:
    rows = random_rows(seed, 60)
    f = BarFeatures()
    for i, r in enumerate(rows):
        got = f.rel_volume(r.volume, r.multiplier)
        if i < WARM_BARS:
            assert got is None, i
        else:
            base = ref_vol_base([b.volume / b.multiplier for b in rows[:i]])
            assert got == pytest.approx(r.volume / (r.multiplier * base), rel=1e-9), i
        f.update(r, day_of(r))


def test_rel_volume_of_a_steady_stream_is_one() -> None:
    # v = 1000 m(t) every bar: the expectation is exactly the bar's volume.
    f = BarFeatures()
    for i in range(20):
        m = 1.0 + 0.1 * (i % 3)
        f.update(BarRow(T0_MS + i * MIN_MS, 10, 10, 10, 10, 1000 * m, m), day_of(
            BarRow(T0_MS + i * MIN_MS, 10, 10, 10, 10, 0)))
    assert f.rel_volume(2000.0, 2.0) == pytest.approx(1.0, rel=1e-12)
    assert f.rel_volume(8000.0, 2.0) == pytest.approx(4.0, rel=1e-12)


# ---- session figures --------------------------------------------------------------------

def test_session_resets_on_a_new_ist_day_and_opening_range() -> None:
    day1 = random_rows(9, 40)
    t1 = ist_wall_ns(2025, 11, 19, 9, 15) // 1_000_000
    day2 = random_rows(10, 25, t0_ms=t1)
    f, _ = run(day1)
    assert f.session_bars == 40
    assert f.session_open == day1[0].open
    assert f.session_high == max(r.high for r in day1)
    assert f.session_low == min(r.low for r in day1)
    assert f.or_high == max(r.high for r in day1[:OPENING_RANGE_BARS])
    assert f.or_low == min(r.low for r in day1[:OPENING_RANGE_BARS])
    run(day2, f)
    assert f.day == day_of(day2[0]) != day_of(day1[0])
    assert f.session_bars == 25
    assert f.session_open == day2[0].open
    assert f.session_high == max(r.high for r in day2)
    assert f.session_low == min(r.low for r in day2)
    assert f.or_high == max(r.high for r in day2[:OPENING_RANGE_BARS])
    assert f.or_low == min(r.low for r in day2[:OPENING_RANGE_BARS])
    # Lifetime figures carry over the night: count, history, ATR.
    assert f.count == 65 and len(f.bars) == HISTORY and f.atr is not None


def test_opening_range_is_fixed_after_fifteen_bars() -> None:
    rows = random_rows(11, 15)
    f, _ = run(rows)
    hi, lo = f.or_high, f.or_low
    t = rows[-1].start_ms + MIN_MS
    f.update(BarRow(t, 10_000, 20_000, 1, 5_000, 1), day_of(rows[-1]))
    assert (f.or_high, f.or_low) == (hi, lo)
    assert (f.session_high, f.session_low) == (20_000, 1)


# ---- encode / decode --------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 70), cut=st.integers(0, 70),
       days=st.integers(1, 2))
def test_decode_encode_then_same_bars_give_identical_features(
        seed: int, n: int, cut: int, days: int) -> None:
    rows = random_rows(seed, n)
    if days == 2:  # the second half on the next day: the session reset is in the path
        t1 = ist_wall_ns(2025, 11, 19, 9, 15) // 1_000_000
        rows = rows[:n // 2] + [BarRow(t1 + i * MIN_MS, *r[1:]) for i, r in
                                enumerate((r.start_ms, r.open, r.high, r.low, r.close,
                                           r.volume, r.multiplier) for r in rows[n // 2:])]
    cut = min(cut, n)
    a, _ = run(rows[:cut])
    b = BarFeatures.decode(a.encode())
    assert b.encode() == a.encode()
    _, seen_a = run(rows[cut:], a)
    _, seen_b = run(rows[cut:], b)
    assert seen_a == seen_b
    assert a.encode() == b.encode()
    # The payload is JSON-able as is.
    import json

    assert json.loads(json.dumps(a.encode())) == a.encode()


@pytest.mark.parametrize("seed", [12, 13])
def test_past_rel_volumes_are_those_known_at_each_bar(seed: int) -> None:
    rows = random_rows(seed, 45)
    f = BarFeatures()
    known: list[float | None] = []
    for r in rows:
        known.append(f.rel_volume(r.volume, r.multiplier))
        f.update(r, day_of(r))
    for n in (1, 5, 9, 30):
        assert f.past_rel_volumes(n) == pytest.approx(known[-n:], rel=1e-9)
    # A window reaching back into the warm-up has no figures; nor one longer than held.
    g, _ = run(rows[:15])
    assert g.past_rel_volumes(5) is not None and g.past_rel_volumes(6) is None
    assert f.past_rel_volumes(HISTORY + 1) is None
