"""Shared bar generators, runners and the comparison rule of the indicator tests.

Imported by the test modules of this folder (pytest puts the folder on ``sys.path``).
Every oracle comparison goes through :func:`assert_close`:

* the warm-up must be TA-Lib's exactly (our first value on the bar of its first
  non-NaN, none before, none missing after);
* every value must satisfy ``|ours - ref| <= 1e-9 * max(|ref|, 1e-3 * scale)``, with
  ``scale`` the largest ``|ref|`` of the series: 1e-9 relative, with a floor so that
  values crossing zero (MACD histogram, ROC) are judged against the series' own size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from aion.tables.indicators import IndicatorParams, IndicatorSet

REL = 1e-9


@dataclass(frozen=True)
class Bars:
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    v: np.ndarray

    def __len__(self) -> int:
        return len(self.c)


def make_bars(o, h, l, c, v) -> Bars:  # noqa: E741
    return Bars(*(np.asarray(a, dtype=np.float64) for a in (o, h, l, c, v)))


def random_bars(seed: int, n: int = 3000, tick: float = 0.05, base: float = 100.0) -> Bars:
    """Seeded geometric random walk with opening gaps, flat bars and zero-volume bars."""
    rng = np.random.default_rng(seed)
    c = base * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    o = np.r_[c[0], c[:-1]]
    gap = rng.random(n) < 0.02
    o = np.where(gap, o * (1.0 + rng.normal(0.0, 0.01, n)), o)
    wick = base * 0.001
    h = np.maximum(o, c) + np.abs(rng.normal(0.0, wick, n))
    l = np.minimum(o, c) - np.abs(rng.normal(0.0, wick, n))  # noqa: E741
    if tick:
        # Quantised prices make ties (equal highs, unchanged closes) common.
        o, h, l, c = (np.round(a / tick) * tick for a in (o, h, l, c))  # noqa: E741
    flat = rng.random(n) < 0.05
    o, h, l = (np.where(flat, c, a) for a in (o, h, l))  # noqa: E741
    v = rng.integers(0, 5000, n).astype(np.float64)
    v[rng.random(n) < 0.05] = 0.0
    return make_bars(o, h, l, c, v)


def _edge_cases() -> dict[str, Bars]:
    rng = np.random.default_rng(7)
    cases: dict[str, Bars] = {}
    n = 300
    f = np.full(n, 250.0)
    cases["flat"] = make_bars(f, f, f, f, np.full(n, 100.0))
    cases["flat_zero_volume"] = make_bars(f, f, f, f, np.zeros(n))
    w = random_bars(11, n=400)
    cases["zero_volume"] = make_bars(w.o, w.h, w.l, w.c, np.zeros(len(w)))
    # Volatile, then perfectly flat (residue of running sums must not leak out).
    w = random_bars(12, n=200)
    cf = np.r_[w.c, np.full(200, w.c[-1])]
    cases["volatile_then_flat"] = make_bars(
        np.r_[w.o, cf[200:]], np.r_[w.h, cf[200:]], np.r_[w.l, cf[200:]], cf,
        np.r_[w.v, np.full(200, 10.0)],
    )
    # Big gaps: +-8% jumps every 25 bars.
    w = random_bars(13, n=500)
    jump = np.cumprod(np.where(np.arange(500) % 25 == 0, 1 + rng.choice([-0.08, 0.08], 500), 1))
    cases["gaps"] = make_bars(w.o * jump, w.h * jump, w.l * jump, w.c * jump, w.v)
    cases["nifty_level"] = random_bars(14, n=1500, tick=0.05, base=24000.0)
    cases["penny"] = random_bars(15, n=800, tick=0.0, base=0.05)
    cases["single_bar"] = make_bars([10.0], [11.0], [9.5], [10.5], [100.0])
    cases["two_bars"] = make_bars([10, 10.5], [11, 10.6], [9.5, 9.0], [10.5, 9.1], [100, 0])
    return cases


EDGE = _edge_cases()
RANDOM = {f"walk_s{s}_t{t}": (s, t) for s in (1, 2, 3) for t in (0.05, 0.0)}
CASES = sorted(RANDOM) + sorted(EDGE)


def case_bars(name: str) -> Bars:
    if name in EDGE:
        return EDGE[name]
    seed, tick = RANDOM[name]
    return random_bars(seed, tick=tick)


def run(bars: Bars, params: IndicatorParams | None = None) -> list[dict]:
    """Feed the bars one by one; return ``values()`` after each."""
    s = IndicatorSet(params)
    out = []
    for i in range(len(bars)):
        s.update_bar(bars.o[i], bars.h[i], bars.l[i], bars.c[i], bars.v[i])
        out.append(s.values())
    return out


@functools.cache
def run_case(name: str) -> list[dict]:
    """:func:`run` with default params, cached per case across test modules."""
    return run(case_bars(name))


def series(out: list[dict], key: str, sub: str | None = None) -> np.ndarray:
    """One value per bar (NaN where the set had none yet)."""
    r = np.full(len(out), np.nan)
    for i, d in enumerate(out):
        if key in d:
            r[i] = d[key] if sub is None else d[key][sub]
    return r


def assert_close(ours: np.ndarray, ref: np.ndarray, label: str) -> None:
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, label
    miss = np.isnan(ours) != np.isnan(ref)
    assert not miss.any(), (
        f"{label}: warm-up differs at bar {np.flatnonzero(miss)[0]} "
        f"(ours {ours[miss][0]}, ref {ref[miss][0]})"
    )
    m = ~np.isnan(ref)
    if not m.any():
        return
    scale = float(np.max(np.abs(ref[m])))
    tol = REL * np.maximum(np.abs(ref[m]), 1e-3 * scale)
    err = np.abs(ours[m] - ref[m])
    bad = err > tol
    assert np.all(np.isfinite(ours[m])), f"{label}: non-finite value"
    if bad.any():
        i = np.flatnonzero(m)[np.argmax(bad)]
        raise AssertionError(f"{label}: bar {i}: ours {ours[i]!r} vs ref {ref[i]!r}")


@st.composite
def bar_series(draw, min_size: int = 1, max_size: int = 150) -> Bars:
    """Hypothesis bars: integer steps on a price grid (ties, flats, gaps, zero volume)."""
    base = draw(st.sampled_from([0.05, 1.0, 100.0, 24000.0]))
    unit = base * draw(st.sampled_from([1e-3, 1e-2]))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(-30, 30),  # close-to-close step
                st.integers(0, 12),  # upper wick
                st.integers(0, 12),  # lower wick
                st.sampled_from([0.0, 1.0, 75.0, 12345.0]),  # volume
                st.integers(-40, 40),  # open gap
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    level = 1000
    o, h, l, c, v = [], [], [], [], []  # noqa: E741
    for step, up, dn, vol, gap in steps:
        op = max(level + gap, 1)
        level = max(level + step, 1)
        hi = max(op, level) + up
        lo = max(min(op, level) - dn, 1)
        o.append(op * unit)
        h.append(hi * unit)
        l.append(lo * unit)
        c.append(level * unit)
        v.append(vol)
    return make_bars(o, h, l, c, v)
