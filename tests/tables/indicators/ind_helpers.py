"""Shared bar generators, runners and the comparison rule of the indicator tests.

Imported by the test modules of this folder (pytest puts the folder on ``sys.path``).
Every oracle comparison goes through :func:`assert_close`:

* the warm-up must be TA-Lib's exactly (our first value on the bar of its first
  non-NaN, none before, none missing after);
* every value must satisfy ``|ours - ref| <= 1e-9 * max(|ref|, 1e-3 * scale)``, with
  ``scale`` the largest ``|ref|`` of the series: 1e-9 relative, with a floor so that
  values crossing zero (MACD histogram, ROC) are judged against the series' own size;
* it must compare something: a reference with no value at all fails, unless the caller
  opts in with ``allow_empty=True`` (only the warm-up cases :data:`WARMUP_CASES` do).

:func:`bar_series` draws series longer than every warm-up of the default params
(:data:`LOOKBACK`), so every generated example compares values of every indicator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from aion.tables.indicators import IndicatorParams, IndicatorSet

REL = 1e-9


def lookbacks(p: IndicatorParams) -> dict[str, int]:
    """TA-Lib's lookback per value name: the index of the first bar with a value."""
    lb = {f"ema_{n}": n - 1 for n in p.ema_periods}
    lb |= {f"sma_{n}": n - 1 for n in p.sma_periods}
    lb |= {f"ema_cross_{f}_{s}": s - 1 for f, s in p.ema_crossovers}
    sto = p.stoch
    lb |= {
        "macd": p.macd.slow - 1 + p.macd.signal - 1,
        "adx": 2 * p.adx - 1,
        "plus_di": p.adx,
        "minus_di": p.adx,
        "aroon": p.aroon,
        "psar": 1,
        "rsi": p.rsi,
        "stoch": sto.fastk - 1 + sto.slowk - 1 + sto.slowd - 1,
        "williams_r": p.williams_r - 1,
        "cci": p.cci - 1,
        "roc": p.roc,
        "bollinger_bands": p.bollinger_bands.period - 1,
        "atr": p.atr,
        "keltner": max(p.keltner.ema_period - 1, p.keltner.atr_period),
        "donchian": p.donchian - 1,
        "obv": 0,
        "ad": 0,
        "cmf": p.cmf - 1,
        "mfi": p.mfi,
    }
    return lb


LOOKBACKS = lookbacks(IndicatorParams())
# The longest warm-up of the default set (EMA 200: 199 bars without a value).
LOOKBACK = max(LOOKBACKS.values())
# Generated series are at least this long: every indicator has >= MARGIN values.
MARGIN = 25
MIN_BARS = LOOKBACK + MARGIN


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
# Cases shorter than most warm-ups: they test the warm-up itself (no value where TA-Lib
# has none), so for them, and only them, a comparison may find nothing to compare.
WARMUP_CASES = frozenset({"single_bar", "two_bars"})


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


def assert_close(
    ours: np.ndarray, ref: np.ndarray, label: str, *, allow_empty: bool = False
) -> int:
    """Compare a series with its reference; return how many values were compared.

    Fails when the reference has no value at all (the check would prove nothing),
    unless ``allow_empty`` says the point is the warm-up: then ``ours`` must have no
    value either (checked with the warm-up).
    """
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
        if allow_empty:
            return 0
        raise AssertionError(f"{label}: compared nothing (no reference value in {len(ref)} bars)")
    scale = float(np.max(np.abs(ref[m])))
    tol = REL * np.maximum(np.abs(ref[m]), 1e-3 * scale)
    err = np.abs(ours[m] - ref[m])
    bad = err > tol
    assert np.all(np.isfinite(ours[m])), f"{label}: non-finite value"
    if bad.any():
        i = np.flatnonzero(m)[np.argmax(bad)]
        raise AssertionError(f"{label}: bar {i}: ours {ours[i]!r} vs ref {ref[i]!r}")
    return int(m.sum())


def _zigzag(x: np.ndarray, m: int) -> np.ndarray:
    """Bytes onto the integers -m..m, byte 0 onto 0 (so shrinking heads for flat bars)."""
    k = x.astype(np.int64) % (2 * m + 1)
    return np.where(k % 2 == 1, (k + 1) // 2, -(k // 2))


_BYTES_PER_BAR = 7


@st.composite
def bar_series(draw, min_size: int = MIN_BARS, max_size: int | None = None) -> Bars:
    """Hypothesis bars: integer steps on a price grid (ties, flats, gaps, zero volume).

    The length is drawn from ``min_size..max_size`` (default ``MIN_BARS..MIN_BARS+75``),
    past every warm-up of the default params. Per series a regime is drawn (step, wick
    and gap sizes, how often bars are flat or gap, the volume palette), per bar a few
    raw bytes: one ``binary`` draw keeps long series cheap, and shrinking the bytes to
    zero gives flat, zero-volume bars.
    """
    if max_size is None:
        max_size = min_size + 75
    n = draw(st.integers(min_size, max_size))
    base = draw(st.sampled_from([0.05, 1.0, 100.0, 24000.0]))
    unit = base * draw(st.sampled_from([1e-3, 1e-2]))
    step_max = draw(st.sampled_from([30, 4, 1, 0]))  # close-to-close step
    wick_max = draw(st.sampled_from([12, 2, 0]))  # upper / lower wick
    gap_max = draw(st.sampled_from([40, 3, 0]))  # open gap
    gap_cut = draw(st.sampled_from([256, 32, 0]))  # bar gaps if its byte < cut
    flat_cut = draw(st.sampled_from([0, 26, 128]))  # bar is flat if its byte < cut
    vols = draw(
        st.sampled_from([(0.0, 1.0, 75.0, 12345.0), (0.0,), (0.0, 0.0, 0.0, 5.0), (12345.0,)])
    )
    raw = draw(st.binary(min_size=_BYTES_PER_BAR * n, max_size=_BYTES_PER_BAR * n))
    by = np.frombuffer(raw, dtype=np.uint8).reshape(n, _BYTES_PER_BAR)
    steps = _zigzag(by[:, 0], step_max).tolist()
    ups = (by[:, 1] % (wick_max + 1)).tolist()
    dns = (by[:, 2] % (wick_max + 1)).tolist()
    v = np.asarray(vols)[by[:, 3] % len(vols)]
    gaps = np.where(by[:, 5] < gap_cut, _zigzag(by[:, 4], gap_max), 0).tolist()
    flats = (by[:, 6] < flat_cut).tolist()
    level = 1000
    o, h, l, c = [], [], [], []  # noqa: E741
    for step, up, dn, gap, flat in zip(steps, ups, dns, gaps, flats, strict=True):
        if flat:
            op = hi = lo = level
        else:
            op = max(level + gap, 1)
            level = max(level + step, 1)
            hi = max(op, level) + up
            lo = max(min(op, level) - dn, 1)
        o.append(op * unit)
        h.append(hi * unit)
        l.append(lo * unit)
        c.append(level * unit)
    return make_bars(o, h, l, c, v)
