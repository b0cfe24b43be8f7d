"""Indicator set speed: ours (numba, one instrument, bar by bar) vs talipp vs TA-Lib batch.

Prints microseconds per bar for the whole set (every indicator of IndicatorParams'
defaults plus the VWAP tick update), for:

* ours via ``IndicatorSet.update_bar`` (the Python-facing call, what an agent pays),
  the raw compiled kernel call, ``update_bars`` over arrays (replays), and ``values()``;
* the same kernel source as plain Python (``NUMBA_DISABLE_JIT=1``, state in a list) in a
  subprocess: what numba buys;
* talipp 2.x incremental indicators covering the same set, fed ``OHLCV`` one by one;
* TA-Lib batch over a long array, total time / number of bars: the floor.

Run: ``.venv/bin/python bench/bench_indicators.py`` (about 30 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import talib

from aion.tables.indicators import IndicatorSet
from aion.tables.indicators import kernel as k


def bars(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    c = np.round(24000 * np.exp(np.cumsum(rng.normal(0, 0.0005, n))) / 0.05) * 0.05
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) + np.round(np.abs(rng.normal(0, 5, n)) / 0.05) * 0.05
    lo = np.minimum(o, c) - np.round(np.abs(rng.normal(0, 5, n)) / 0.05) * 0.05
    v = rng.integers(0, 50_000, n).astype(np.float64)
    return o, h, lo, c, v


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_ours(n: int) -> dict[str, float]:
    o, h, lo, c, v = bars(n)
    ol, hl, ll, cl, vl = (a.tolist() for a in (o, h, lo, c, v))
    warm = IndicatorSet()
    warm.update_bars(o[:300], h[:300], lo[:300], c[:300], v[:300])  # JIT + warm-up
    warm.update_tick(100.0, 1.0)
    res = {}

    def api():
        s = IndicatorSet()
        ub, ut = s.update_bar, s.update_tick
        for i in range(n):
            ub(ol[i], hl[i], ll[i], cl[i], vl[i])
            ut(cl[i], vl[i])

    res["ours: update_bar + update_tick (class API)"] = best_of(api) / n

    def raw():
        s = IndicatorSet()
        st, lay, fp = s.state, s.layout.lay, s.layout.fp
        kb = k.update_bar
        for i in range(n):
            kb(st, lay, fp, ol[i], hl[i], ll[i], cl[i], vl[i])

    res["ours: raw kernel call per bar"] = best_of(raw) / n

    def batch():
        s = IndicatorSet()
        s.update_bars(o, h, lo, c, v)

    res["ours: update_bars (whole array in numba)"] = best_of(batch) / n
    s = IndicatorSet()
    s.update_bars(o, h, lo, c, v)
    s.update_tick(100.0, 1.0)
    m = 20_000
    t0 = time.perf_counter()
    for _ in range(m):
        s.values()
    res["ours: values() (read-out, per call)"] = (time.perf_counter() - t0) / m
    return res


def bench_plain_python(n: int) -> float:
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from bench_indicators import bars
        from aion.tables.indicators import IndicatorSet, kernel
        o, h, lo, c, v = (a.tolist() for a in bars({n}))
        s = IndicatorSet()
        st, lay, fp = s.state.tolist(), s.layout.lay.tolist(), s.layout.fp.tolist()
        t0 = time.perf_counter()
        for i in range({n}):
            kernel.update_bar(st, lay, fp, o[i], h[i], lo[i], c[i], v[i])
            kernel.update_tick(st, lay, c[i], v[i])
        print((time.perf_counter() - t0) / {n})
        """
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def bench_talipp(n: int) -> float:
    from talipp.indicators import (
        ADX,
        ATR,
        BB,
        CCI,
        EMA,
        MACD,
        OBV,
        ROC,
        RSI,
        SMA,
        VWAP,
        AccuDist,
        Aroon,
        ChaikinOsc,
        DonchianChannels,
        KeltnerChannels,
        ParabolicSAR,
        Stoch,
        Williams,
    )
    from talipp.ohlcv import OHLCV

    o, h, lo, c, v = (a.tolist() for a in bars(n))
    rows = [OHLCV(o[i], h[i], lo[i], c[i], v[i]) for i in range(n)]

    def run():
        close_ind = [EMA(p) for p in (5, 10, 20, 50, 100, 200)]
        close_ind += [SMA(20), MACD(12, 26, 9), RSI(14), ROC(10), BB(20, 2.0)]
        bar_ind = [
            ADX(14, 14), Aroon(14), ParabolicSAR(0.02, 0.02, 0.2), Stoch(14, 3),
            Williams(14), CCI(20), ATR(14), KeltnerChannels(20, 10, 2.0, 2.0),
            DonchianChannels(20), OBV(), AccuDist(), ChaikinOsc(3, 10), VWAP(),
        ]
        for i in range(n):
            x = c[i]
            for ind in close_ind:
                ind.add(x)
            r = rows[i]
            for ind in bar_ind:
                ind.add(r)

    return best_of(run, repeat=1) / n


def bench_talib(n: int) -> float:
    _o, h, lo, c, v = bars(n)

    def run():
        for p in (5, 10, 20, 50, 100, 200):
            talib.EMA(c, p)
        talib.SMA(c, 20)
        talib.MACD(c, 12, 26, 9)
        talib.ADX(h, lo, c, 14)
        talib.PLUS_DI(h, lo, c, 14)
        talib.MINUS_DI(h, lo, c, 14)
        talib.AROON(h, lo, 14)
        talib.AROONOSC(h, lo, 14)
        talib.SAR(h, lo, 0.02, 0.2)
        talib.RSI(c, 14)
        talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
        talib.WILLR(h, lo, c, 14)
        talib.CCI(h, lo, c, 20)
        talib.ROC(c, 10)
        talib.BBANDS(c, 20, 2.0, 2.0, 0)
        talib.ATR(h, lo, c, 14)
        talib.ATR(h, lo, c, 10)  # Keltner's ATR
        talib.EMA(c, 20)  # Keltner's middle
        talib.MAX(h, 20)  # Donchian
        talib.MIN(lo, 20)
        talib.OBV(c, v)
        talib.AD(h, lo, c, v)
        talib.MFI(h, lo, c, v, 14)

    return best_of(run) / n


def main() -> None:
    t_start = time.perf_counter()
    ours = bench_ours(50_000)
    plain = bench_plain_python(3_000)
    tp = bench_talipp(5_000)
    floor = bench_talib(1_000_000)
    api = ours["ours: update_bar + update_tick (class API)"]
    rows = [*ours.items()]
    rows += [
        ("same kernel as plain Python (NUMBA_DISABLE_JIT)", plain),
        ("talipp 2.x incremental, same set", tp),
        ("TA-Lib batch, all functions / bars (floor)", floor),
    ]
    print("full indicator set, one instrument, per closed bar (NIFTY-like prices)")
    print(f"{'path':58s} {'us/bar':>10s} {'x ours API':>11s}")
    for name, sec in rows:
        print(f"{name:58s} {sec * 1e6:10.3f} {sec / api:11.2f}")
    print(f"\nnumba vs plain Python (same code): {plain / api:.0f}x faster")
    print(f"ours vs talipp: {tp / api:.0f}x faster")
    print(f"ours vs TA-Lib batch floor: {api / floor:.1f}x slower")
    print(f"(bench wall time {time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
