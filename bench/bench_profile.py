"""Benchmark: incremental volume profile vs recomputing from scratch, µs per operation.

Series: a 20k-tick random walk at a 0.05 tick (NIFTY-future-like price, sticky steps,
some zero-volume ticks). Prints:

* per tick: ``VolumeProfile.update`` (scalar), ``update_many`` in bundles of 50;
* per evaluation (the publish path, every 100 ticks): ``evaluate`` (POC, value area,
  nodes, strength, events), ``to_bytes`` / ``from_bytes`` and the Redis payloads;
* baselines measured in the same run on the same evaluation points: a from-scratch numpy
  recomputation of histogram + POC + value area + nodes over all ticks so far, and the
  ``marketprofile`` package (``MarketProfile``) when installed.

Run: ``python bench/bench_profile.py`` (well under 30 s).
"""

from __future__ import annotations

import time

import numpy as np

from aion.agents.writers import profile_payloads as pp
from aion.tables.profile import VolumeProfile, _peaks, _value_area
from aion.tables.timeutil import ist_day, ist_wall_ns

N = 20_000
TICK = 0.05
EVERY = 100
T0 = ist_wall_ns(2025, 10, 23, 9, 15)
DAY = ist_day(T0)


def series(n: int = N, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prices, incremental volumes and event times of a random-walk session."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-2, -1, 0, 0, 0, 1, 2], n)
    rows = 500_000 + np.cumsum(steps)  # 25000.00 at 0.05
    prices = np.round(rows * TICK, 2)
    vols = (rng.lognormal(3.0, 1.0, n)).astype(np.int64)
    vols[rng.random(n) < 0.1] = 0  # LTP-only / no new volume
    ts = T0 + np.cumsum(rng.integers(50, 400, n)) * 1_000_000
    return prices, vols, ts


def baseline_eval(prices: np.ndarray, vols: np.ndarray, pct: float = 0.7) -> tuple:
    """From scratch with numpy: bin, POC (argmax), CBOT value area, HVN peaks."""
    m = vols > 0
    rows = np.rint(prices[m] / TICK).astype(np.int64)
    lo = rows.min()
    v = np.bincount(rows - lo, weights=vols[m]).astype(np.int64)
    p = int(np.argmax(v))
    a, b, _ = _value_area(v, p, int(np.ceil(pct * v.sum())))
    peaks = _peaks(v, 3, 1)
    return lo + p, lo + a, lo + b, peaks


def timed(fn, repeat: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    prices, vols, ts = series()
    pl, vl, tl = prices.tolist(), vols.tolist(), ts.tolist()
    days = np.full(N, DAY)

    # Warm numba (cached on disk after the first run) and the code paths.
    w = VolumeProfile(TICK)
    w.update_many(prices[:500], vols[:500], ts[:500], days[:500])
    w.evaluate()

    # --- per tick, scalar
    best = float("inf")
    for _ in range(3):
        prof = VolumeProfile(TICK)
        upd = prof.update
        t0 = time.perf_counter()
        for i in range(N):
            upd(pl[i], vl[i], tl[i], DAY)
        best = min(best, time.perf_counter() - t0)
    print(f"update (scalar)           {best / N * 1e6:8.3f} µs/tick")

    # --- per tick, bundles (the agent's path: one call per instrument per bundle)
    for size in (50, 500):
        best_b = float("inf")
        for _ in range(3):
            prof2 = VolumeProfile(TICK)
            t0 = time.perf_counter()
            for s in range(0, N, size):
                prof2.update_many(prices[s : s + size], vols[s : s + size],
                                  ts[s : s + size], days[s : s + size])
            best_b = min(best_b, time.perf_counter() - t0)
        assert prof2.to_bytes() == prof.to_bytes()
        print(f"update_many (bundles {size:3d}) {best_b / N * 1e6:7.3f} µs/tick")

    # --- per evaluation, along the session (every EVERY ticks, as the publish cadence)
    inc = VolumeProfile(TICK)
    t_eval = t_bytes = t_load = t_pay = 0.0
    n_eval = 0
    points = []
    for s in range(0, N, EVERY):
        inc.update_many(prices[s : s + EVERY], vols[s : s + EVERY], ts[s : s + EVERY],
                        days[s : s + EVERY])
        t0 = time.perf_counter()
        snap = inc.publish(tl[min(s + EVERY, N) - 1])
        t1 = time.perf_counter()
        blob = inc.to_bytes()
        t2 = time.perf_counter()
        VolumeProfile.from_bytes(blob)
        t3 = time.perf_counter()
        pp.publish_payloads(snap)
        t4 = time.perf_counter()
        t_eval += t1 - t0
        t_bytes += t2 - t1
        t_load += t3 - t2
        t_pay += t4 - t3
        n_eval += 1
        points.append((min(s + EVERY, N), snap.poc, snap.va_low, snap.va_high))
    print(f"rows at the end: {snap.rows}, traded {snap.traded_rows}, "
          f"state {len(blob)} bytes, evaluations {n_eval}")
    print(f"evaluate/publish          {t_eval / n_eval * 1e6:8.1f} µs/evaluation")
    print(f"to_bytes                  {t_bytes / n_eval * 1e6:8.1f} µs")
    print(f"from_bytes                {t_load / n_eval * 1e6:8.1f} µs")
    print(f"publish_payloads (all)    {t_pay / n_eval * 1e6:8.1f} µs")

    # --- baseline: numpy from scratch at a sample of the same points
    sample = points[:: max(1, len(points) // 40)]
    t_base = 0.0
    agree = checked = 0
    for k, poc, va_lo, va_hi in sample:
        t0 = time.perf_counter()
        bpoc, blo, bhi, _ = baseline_eval(prices[:k], vols[:k])
        t_base += time.perf_counter() - t0
        # argmax takes the first of equal rows, so compare only where they agree on POC.
        if bpoc == poc:
            checked += 1
            agree += (blo, bhi) == (va_lo, va_hi)
    print(f"cross-check: value area equal at {agree}/{checked} points with the same POC")
    base_us = t_base / len(sample) * 1e6
    print(f"baseline numpy recompute  {base_us:8.1f} µs/evaluation "
          f"(x{base_us / (t_eval / n_eval * 1e6):.1f} ours), mean over {len(sample)} points")
    t0 = time.perf_counter()
    for _ in range(5):
        baseline_eval(prices, vols)
    end_us = (time.perf_counter() - t0) / 5 * 1e6
    print(f"baseline numpy at {N} ticks {end_us:7.1f} µs/evaluation (grows with the ticks "
          f"kept; ours depends on rows only)")
    ours_tick = best / N * 1e6 + t_eval / n_eval / EVERY * 1e6
    print(f"per tick incl. publish every {EVERY}: ours {ours_tick:.3f} µs, "
          f"numpy baseline {base_us / EVERY:.3f} µs + keeping every tick")

    try:
        import pandas as pd
        from market_profile import MarketProfile
    except ImportError:
        print("marketprofile not installed: package baseline skipped")
        return
    idx = pd.to_datetime(ts, unit="ns")
    df = pd.DataFrame({"Open": prices, "High": prices, "Low": prices, "Close": prices,
                       "Volume": vols.astype(float)}, index=idx)
    mp = MarketProfile(df, tick_size=TICK)
    few = sample[:: max(1, len(sample) // 8)]
    t_mp = 0.0
    for k, *_ in few:
        t0 = time.perf_counter()
        mp[idx[0] : idx[k - 1]]
        t_mp += time.perf_counter() - t0
    mp_us = t_mp / len(few) * 1e6
    print(f"baseline MarketProfile    {mp_us:8.1f} µs/evaluation "
          f"(x{mp_us / (t_eval / n_eval * 1e6):.1f} ours), mean over {len(few)} points")


if __name__ == "__main__":
    t_start = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t_start:.1f} s")
