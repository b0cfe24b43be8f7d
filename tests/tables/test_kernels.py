"""The compiled loop (tables/kernels.py) against the Python reference loop.

Every property drives two states with the same bundles, one through
``apply_ticks_python`` and one through ``apply_ticks_kernel``, and requires identical
``to_bytes()`` and identical ``ApplyResult`` reprs (repr, not ==, so that an int where
a float belongs, 0 vs 0.0, also fails).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aion.streams.batch import TICK_DTYPE
from aion.tables import kernels
from aion.tables.instrument_state import (
    KERNEL_MIN_SLICE,
    InstrumentState,
    advance_watermark,
    apply_ticks,
    apply_ticks_kernel,
    apply_ticks_python,
)
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

TOKEN = 341249
PROP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = [(2025, 10, 22), (2025, 10, 23), (2025, 10, 24), (2025, 10, 27)]


def build(times, prices, cums, kinds, errors, token=TOKEN):
    n = len(times)
    arr = np.zeros(n, dtype=TICK_DTYPE)
    arr["token"] = token
    arr["kind"] = kinds
    arr["last_price"] = prices
    arr["volume"] = cums
    arr["error"] = errors
    ev = np.asarray(times, dtype=np.int64)
    arr["exchange_ts"] = ev // NS_PER_S
    return arr, ev


# Times of day (seconds) that hit every rule: early pre-open, pre-open, the 09:15 and
# 09:16 baseline edges, the session, the 15:29/15:30 close edge and after hours.
EDGE_SECONDS = [
    0,
    5 * 3600,
    9 * 3600,
    9 * 3600 + 14 * 60 + 59,
    9 * 3600 + 15 * 60,
    9 * 3600 + 15 * 60 + 59,
    9 * 3600 + 16 * 60,
    10 * 3600 + 15 * 60,
    15 * 3600 + 29 * 60 + 59,
    15 * 3600 + 30 * 60,
    15 * 3600 + 45 * 60,
    23 * 3600 + 59 * 60 + 59,
]


@st.composite
def tick_streams(draw, max_size=200):
    """Ticks over a few IST days with disorder, day changes and every kind of bad data."""
    n = draw(st.integers(1, max_size))
    day_i = draw(st.integers(0, 1))
    sec = draw(st.sampled_from(EDGE_SECONDS))
    cum = draw(st.integers(0, 50_000))
    price = 100.0
    times, prices, cums, kinds, errors = [], [], [], [], []
    for _ in range(n):
        move = draw(st.integers(0, 40))
        if move == 0:  # day change: usually forward, sometimes back (stale)
            day_i = min(len(DAYS) - 1, max(0, day_i + draw(st.sampled_from([1, 1, 2, -1]))))
            sec = draw(st.sampled_from(EDGE_SECONDS))
            cum = draw(st.integers(0, 5_000))
        elif move == 1:
            sec = draw(st.sampled_from(EDGE_SECONDS))
        elif move <= 6:  # late: back up to a few minutes
            sec = max(0, sec - draw(st.integers(0, 300)))
        else:
            sec = min(86_399, sec + draw(st.one_of(st.integers(0, 20), st.integers(0, 900))))
        t = ist_wall_ns(*DAYS[day_i]) + sec * NS_PER_S + draw(st.integers(0, NS_PER_S - 1))
        cum += draw(st.integers(0, 3_000))
        sent = cum
        if draw(st.integers(0, 15)) == 0:
            sent = max(0, cum - draw(st.integers(1, 5_000)))  # volume drop
        price = max(0.05, price + draw(st.floats(-3, 3, allow_nan=False, allow_infinity=False)))
        bad = draw(st.integers(0, 30))
        p = {0: math.nan, 1: math.inf, 2: 0.0, 3: -price, 4: -math.inf}.get(bad, price)
        times.append(t)
        prices.append(p)
        cums.append(min(sent, 2**32 - 1))
        kinds.append(draw(st.sampled_from([184, 184, 184, 44, 44, 8, 28, 32])))
        errors.append(1 if draw(st.integers(0, 40)) == 0 else 0)
    return build(times, prices, cums, kinds, errors)


@st.composite
def deliveries(draw):
    """A tick stream cut into bundles, some redelivered (overlapping), some watermarks."""
    arr, ev = draw(tick_streams())
    n = len(arr)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=4))))
    bounds = [0, *[c for c in cuts if 0 < c < n], n]
    steps = []
    for offset, (a, b) in enumerate(itertools.pairwise(bounds)):
        steps.append(("bundle", offset, a, b))
        if draw(st.integers(0, 4)) == 0:  # redelivery of the same bundle
            steps.append(("bundle", offset, a, b))
        if draw(st.integers(0, 5)) == 0:
            steps.append(("watermark", int(ev[b - 1]) + draw(st.integers(0, 3600)) * NS_PER_S))
    return arr, ev, steps


def run(apply, arr, ev, steps, state=None):
    state = state or InstrumentState(token=TOKEN)
    trace = []
    for step in steps:
        if step[0] == "bundle":
            _, offset, a, b = step
            # Indices in bundle are sparse (other tokens interleave in a real bundle).
            idx = np.arange(a, b, dtype=np.int64) * 3 + 1
            res = apply(state, arr[a:b], ev[a:b], 0, offset, idx)
        else:
            res = advance_watermark(state, step[1])
        trace.append((repr(res), state.to_bytes()))
    return state, trace


@PROP
@given(deliveries())
def test_kernel_matches_python(case):
    arr, ev, steps = case
    s_py, tr_py = run(apply_ticks_python, arr, ev, steps)
    s_k, tr_k = run(apply_ticks_kernel, arr, ev, steps)
    assert tr_k == tr_py
    assert s_k.to_bytes() == s_py.to_bytes()
    # The restored state must continue identically too.
    again = InstrumentState.from_bytes(s_k.to_bytes())
    assert again.to_bytes() == s_py.to_bytes()


@PROP
@given(deliveries())
def test_dispatch_matches_python(case):
    """apply_ticks (kernel above the threshold, Python below) equals the reference."""
    arr, ev, steps = case
    _, tr_py = run(apply_ticks_python, arr, ev, steps)
    _, tr_d = run(apply_ticks, arr, ev, steps)
    assert tr_d == tr_py


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tick_streams(max_size=120), tick_streams(max_size=120))
def test_kernel_continues_from_restored_state(first, second):
    """A state built by one path and restored from bytes continues identically."""
    a1, e1 = first
    a2, e2 = second
    # Shift the second stream to be later, as a following day would be.
    e2 = e2 + 7 * 86_400 * NS_PER_S
    a2["exchange_ts"] = e2 // NS_PER_S
    base = InstrumentState(token=TOKEN)
    apply_ticks_python(base, a1, e1, 0, 0, np.arange(len(a1)))
    blob = base.to_bytes()
    s_py = InstrumentState.from_bytes(blob)
    s_k = InstrumentState.from_bytes(blob)
    r_py = apply_ticks_python(s_py, a2, e2, 0, 1, np.arange(len(a2)))
    r_k = apply_ticks_kernel(s_k, a2, e2, 0, 1, np.arange(len(a2)))
    assert repr(r_k) == repr(r_py)
    assert s_k.to_bytes() == s_py.to_bytes()


def test_every_reject_and_outcome_kind_is_exercised():
    """A fixed stream with each rule once, so a regression fails without hypothesis luck."""
    d = (2025, 10, 23)
    nxt = (2025, 10, 24)
    rows = [
        (ist_wall_ns(*d, 9, 7), 100.0, 500, 184, 0),  # pre-open, baseline 0, 09:15 bar
        (ist_wall_ns(*d, 9, 15, 30), 101.0, 700, 184, 0),  # same bar
        (ist_wall_ns(*d, 9, 16, 1), 102.0, 650, 184, 0),  # volume drop -> reject
        (ist_wall_ns(*d, 9, 16, 2), math.nan, 800, 184, 0),  # bad price
        (ist_wall_ns(*d, 9, 16, 3), 0.0, 800, 44, 0),  # bad price
        (ist_wall_ns(*d, 9, 16, 4), 103.0, 800, 44, 1),  # decode error
        (ist_wall_ns(*d, 9, 16, 5), 103.0, 900, 44, 0),  # new bar
        (ist_wall_ns(*d, 9, 15, 50), 99.0, 950, 184, 0),  # late, folded
        (ist_wall_ns(*d, 9, 20, 0), 104.0, 0, 8, 0),  # LTP, no volume; rolls 5m
        (ist_wall_ns(*d, 15, 30, 0), 105.0, 1000, 184, 0),  # post close
        (ist_wall_ns(*d, 15, 10, 0), 105.5, 1100, 32, 0),  # unbarred after close
        (ist_wall_ns(*nxt, 11, 0, 0), 106.0, 50_000, 184, 0),  # new day mid-session
        (ist_wall_ns(*d, 11, 0, 0), 106.0, 60_000, 184, 0),  # stale date
        (ist_wall_ns(*nxt, 11, 0, 30), 107.0, 50_100, 28, 0),  # index quote, no volume
    ]
    arr, ev = build(*zip(*rows, strict=True))
    arr = np.concatenate([arr] * 5)  # long enough for the dispatching path too
    ev = np.concatenate([ev] * 5)
    assert len(arr) > KERNEL_MIN_SLICE
    results = []
    for apply in (apply_ticks_python, apply_ticks_kernel, apply_ticks):
        s = InstrumentState(token=TOKEN)
        r = apply(s, arr, ev, 2, 7, np.arange(len(arr)))
        w = advance_watermark(s, 2**62)
        results.append((repr(r), repr(w), s.to_bytes()))
    assert results[0] == results[1] == results[2]
    s = InstrumentState(token=TOKEN)
    r = apply_ticks_kernel(s, arr, ev, 2, 7, np.arange(len(arr)))
    reasons = {reason for _, reason in r.rejects}
    assert reasons == {"decode_error", "bad_price", "stale_trading_date", "non_monotonic_volume"}
    assert r.late_ticks > 0 and r.closed_bars and r.closed_buckets
    assert s.bars.post_close_ticks > 0 and s.bars.unbarred_ticks > 0


def test_kernel_rejects_foreign_token_without_change():
    arr, ev = build([ist_wall_ns(2025, 10, 23, 10)] * 60, [100.0] * 60, list(range(60)),
                    [184] * 60, [0] * 60)
    arr["token"][30] = TOKEN + 1
    for apply in (apply_ticks_python, apply_ticks_kernel):
        s = InstrumentState(token=TOKEN)
        before = s.to_bytes()
        with pytest.raises(ValueError, match="another token"):
            apply(s, arr, ev, 0, 0, np.arange(60))
        assert s.to_bytes() == before


def test_kernel_duplicates_and_index_checks():
    arr, ev = build([ist_wall_ns(2025, 10, 23, 10, 0, i) for i in range(80)], [100.0] * 80,
                    list(range(80)), [184] * 80, [0] * 80)
    idx = np.arange(80)
    s_py, s_k = InstrumentState(token=TOKEN), InstrumentState(token=TOKEN)
    for apply, s in ((apply_ticks_python, s_py), (apply_ticks_kernel, s_k)):
        apply(s, arr[:50], ev[:50], 0, 3, idx[:50])
        r = apply(s, arr, ev, 0, 3, idx)  # redelivery overlapping the first part
        assert r.skipped_duplicates == 50 and r.applied == 30
        r = apply(s, arr, ev, 0, 2, idx)  # older offset: all duplicates
        assert r.skipped_duplicates == 80 and r.applied == 0
        with pytest.raises(ValueError, match="strictly increasing"):
            apply(s, arr, ev, 0, 4, idx[::-1].copy())
        with pytest.raises(ValueError, match="same length"):
            apply(s, arr, ev[:-1], 0, 4, idx)
    assert s_k.to_bytes() == s_py.to_bytes()


def test_state_layout_sizes():
    s = InstrumentState(token=TOKEN)
    from aion.tables.instrument_state import _pack

    si, sf = _pack(s)
    assert si.shape == (kernels.N_INT_STATE,) and sf.shape == (kernels.N_FLOAT_STATE,)


def test_pack_writes_every_field_at_its_named_slot():
    from aion.tables.bars import OpenBar
    from aion.tables.instrument_state import _pack, _unpack

    s = InstrumentState(token=TOKEN)
    vs, bs = s.volume, s.bars
    (vs.day, vs.cumulative, vs.baseline_volume, vs.incremental_total, vs.last_incremental,
     vs.update_count, vs.last_update) = range(101, 108)
    vs.observed = True
    vs.last_price, vs.high_price, vs.low_price = 1.5, 2.5, 0.5
    bs.open_bar = OpenBar(201, 3.5, 4.5, 2.75, 3.25, 202, 203, 204, 5.5, 205, 206, 207)
    (bs.floor_ns, bs.closed_day, bs.post_close_ticks, bs.post_close_volume, bs.unbarred_ticks,
     bs.unbarred_volume) = range(301, 307)
    for k, acc in enumerate(s.buckets.accs):
        acc.start_ns, acc.volume, acc.count, acc.first_ts_ns, acc.last_ts_ns = range(
            400 + 10 * k, 405 + 10 * k)
        acc.last_price = 6.5 + k
    si, sf = _pack(s)
    named_i = {
        "I_DAY": 101, "I_OBSERVED": 1, "I_CUMULATIVE": 102, "I_BASELINE": 103,
        "I_INC_TOTAL": 104, "I_LAST_INC": 105, "I_UPDATE_COUNT": 106, "I_LAST_UPDATE": 107,
        "I_HAS_OPEN": 1, "I_OB_START": 201, "I_OB_VOLUME": 202, "I_OB_TICKS": 203,
        "I_OB_LATE": 204, "I_OB_PV_VOLUME": 205, "I_OB_FIRST_TS": 206, "I_OB_LAST_TS": 207,
        "I_FLOOR": 301, "I_CLOSED_DAY": 302, "I_POST_TICKS": 303, "I_POST_VOLUME": 304,
        "I_UNBARRED_TICKS": 305, "I_UNBARRED_VOLUME": 306,
    }
    named_f = {"F_LAST_PRICE": 1.5, "F_HIGH": 2.5, "F_LOW": 0.5, "F_OB_OPEN": 3.5,
               "F_OB_HIGH": 4.5, "F_OB_LOW": 2.75, "F_OB_CLOSE": 3.25, "F_OB_PV": 5.5}
    assert {n: int(si[getattr(kernels, n)]) for n in named_i} == named_i
    assert {n: float(sf[getattr(kernels, n)]) for n in named_f} == named_f
    for k in range(kernels.N_COARSE):
        j = kernels.I_ACC0 + k * kernels.ACC_WIDTH
        assert si[j : j + kernels.ACC_WIDTH].tolist() == list(range(400 + 10 * k, 405 + 10 * k))
        assert sf[kernels.F_ACC0 + k] == 6.5 + k
    back = InstrumentState(token=TOKEN)
    _unpack(back, si.tolist(), sf.tolist())
    assert back == s
    s.bars.open_bar = None
    si, sf = _pack(s)
    _unpack(back, si.tolist(), sf.tolist())
    assert back == s and si[kernels.I_HAS_OPEN] == 0


U32 = st.integers(0, 2**32 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)
EDGE_I64 = st.sampled_from([-(2**63), -1, 0, 1, 2**62, 2**63 - 1, 2**63 - 5 * 3600 * NS_PER_S,
                            946_684_800 * NS_PER_S - 1, 4_102_444_800 * NS_PER_S])


@st.composite
def edge_ticks(draw, max_size=40):
    """Sane ticks with any field replaced by a value from its full range (u32 / i64)."""
    n = draw(st.integers(1, max_size))
    t = ist_wall_ns(*DAYS[draw(st.integers(0, 3))]) + draw(st.sampled_from(EDGE_SECONDS)) * NS_PER_S
    cum, price = draw(U32) // 2, 100.0
    times, prices, cums, kinds = [], [], [], []
    for _ in range(n):
        t += draw(st.integers(0, 600)) * NS_PER_S
        cum += draw(st.integers(0, 5_000))
        price = max(0.05, price + draw(st.floats(-3, 3)))
        wild = draw(st.integers(0, 5))
        times.append(draw(st.one_of(I64, EDGE_I64)) if wild == 0 else t)
        prices.append(draw(st.one_of(U32.map(lambda p: p / 100), st.floats()))
                      if wild == 1 else price)
        cums.append(draw(U32) if wild == 2 else min(cum, 2**32 - 1))
        kinds.append(draw(st.sampled_from([184, 44, 8, 28, 32])))
    return build(times, prices, cums, kinds, [0] * n)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edge_ticks(), edge_ticks(), st.sampled_from([0.0, 0.25]))
def test_paths_agree_and_never_raise_over_full_field_ranges(first, second, band):
    """Issue 11 item 1: the kernel overflowed on an int64-edge receive time stored by the
    Python path; now both paths agree on every input and nothing raises."""
    states = []
    for apply in (apply_ticks_python, apply_ticks_kernel):
        state = InstrumentState(token=TOKEN)
        trace = []
        for offset, (arr, ev) in enumerate((first, second)):
            idx = np.arange(len(arr), dtype=np.int64)
            res = apply(state, arr, ev, 0, offset, idx, price_band=band)
            trace.append((repr(res), state.to_bytes()))
        trace.append((repr(advance_watermark(state, 2**62)), state.to_bytes()))
        states.append(trace)
    assert states[0] == states[1]


def test_int64_edge_receive_time_then_kernel_does_not_overflow():
    """The probe's crash loop: Python path first (short slice), then a kernel slice."""
    t = ist_wall_ns(2025, 10, 23, 10)
    edge, _ = build([2**63 - 5 * 3600 * NS_PER_S], [100.0], [10], [8], [0])
    good, ev = build([t + i * NS_PER_S for i in range(20)], [100.0] * 20,
                     list(range(20, 40)), [184] * 20, [0] * 20)
    state = InstrumentState(token=TOKEN)
    r1 = apply_ticks(state, edge, [2**63 - 5 * 3600 * NS_PER_S], 0, 0, [0])
    assert r1.rejects == [(0, "event_time_out_of_range")] and state.volume.day == -1
    r2 = apply_ticks(state, good, ev, 0, 1, np.arange(20))
    assert r2.applied == 20 and r2.rejects == []
