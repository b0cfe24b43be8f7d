from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_strategies import instrument_states

from aion.streams.batch import TICK_DTYPE as TICK_DTYPE_FOR_TESTS
from aion.tables.analytics import Analytics
from aion.tables.instrument_state import (
    SMALL_SLICE,
    InstrumentState,
    _precompute_numpy,
    _precompute_python,
    advance_watermark,
    apply_ticks,
    open_bar,
    open_buckets,
    session_fields,
)
from aion.tables.state_codec import StateFormatError
from aion.tables.timeutil import BUCKET_RESOLUTIONS, NS_PER_S, ist_wall_ns

TOKEN = 341249
D = (2025, 10, 23)
PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def t(h, m, s=0, day=D):
    return ist_wall_ns(*day, h, m, s)


def build(times, prices, cums, kinds=None, errors=None):
    n = len(times)
    arr = np.zeros(n, dtype=TICK_DTYPE_FOR_TESTS)
    arr["token"] = TOKEN
    arr["kind"] = 184 if kinds is None else kinds
    arr["last_price"] = prices
    arr["volume"] = cums
    if errors is not None:
        arr["error"] = errors
    ev = np.asarray(times, dtype=np.int64)
    arr["exchange_ts"] = ev // NS_PER_S
    return arr, ev


def apply_all(state, arr, ev, offset=0, partition=0):
    return apply_ticks(state, arr, ev, partition, offset, np.arange(len(arr)))


# ---------------------------------------------------------------- hypothesis input


@st.composite
def day_sessions(draw, min_size=1, max_size=120):
    """One IST day of ticks in arrival order, with occasional disorder and bad data."""
    n = draw(st.integers(min_size, max_size))
    t0 = t(9, 0) + draw(st.integers(0, 6 * 3600 + 40 * 60)) * NS_PER_S
    times, prices, cums, kinds, errors = [], [], [], [], []
    cur_t, true_cum, price = t0, draw(st.integers(0, 10_000)), 100.0
    for _ in range(n):
        step = draw(st.one_of(st.integers(0, 90), st.integers(-150, 0), st.integers(0, 1800)))
        cur_t = max(t(0, 1), cur_t + step * NS_PER_S + draw(st.integers(0, NS_PER_S - 1)))
        cur_t = min(cur_t, t(23, 59))
        true_cum += draw(st.integers(0, 2_000))
        sent = true_cum
        if draw(st.integers(0, 20)) == 0:
            sent = max(0, true_cum - draw(st.integers(1, 5_000)))  # bad: a drop
        price = round(max(1.0, price + draw(st.floats(-2, 2, allow_nan=False))), 2)
        bad = draw(st.integers(0, 25))
        p = {0: math.nan, 1: math.inf, 2: 0.0, 3: -price}.get(bad, price)
        times.append(cur_t)
        prices.append(p)
        cums.append(sent)
        kinds.append(draw(st.sampled_from([184, 184, 44, 8, 32])))
        errors.append(1 if draw(st.integers(0, 40)) == 0 else 0)
    return build(times, prices, cums, kinds, errors)


def chunkings(n):
    return st.lists(st.integers(1, n), max_size=12).map(
        lambda cuts: sorted({0, n, *[c for c in cuts if c < n]})
    )


def apply_chunked(state, arr, ev, cuts, base_offset=100):
    """Apply in bundles [cuts[j], cuts[j+1]) at offsets base+j, global indices."""
    out = []
    for j, (a, b) in enumerate(itertools.pairwise(cuts)):
        out.append(apply_ticks(state, arr[a:b], ev[a:b], 0, base_offset + j, np.arange(a, b)))
    return out


def flat(results):
    bars = [b for r in results for b in r.closed_bars]
    buckets = [b for r in results for b in r.closed_buckets]
    rejects = [x for r in results for x in r.rejects]
    return bars, buckets, rejects


# ---------------------------------------------------------------- properties


@PROP
@given(data=st.data())
def test_chunking_does_not_matter(data):
    arr, ev = data.draw(day_sessions())
    n = len(arr)
    cuts = data.draw(chunkings(n))
    one = InstrumentState(TOKEN)
    last_offset = 100 + len(cuts) - 2
    r1 = apply_ticks(one, arr, ev, 0, last_offset, np.arange(n))
    many = InstrumentState(TOKEN)
    rs = apply_chunked(many, arr, ev, cuts)
    assert one.to_bytes() == many.to_bytes()
    assert flat([r1]) == flat(rs)
    assert r1.applied == sum(r.applied for r in rs)


@PROP
@given(data=st.data())
def test_redelivery_is_idempotent(data):
    arr, ev = data.draw(day_sessions())
    cuts = data.draw(chunkings(len(arr)))
    ref = InstrumentState(TOKEN)
    apply_chunked(ref, arr, ev, cuts)
    final = ref.to_bytes()

    # Re-applying any already-applied prefix changes nothing.
    k = data.draw(st.integers(1, len(cuts) - 1))
    again = apply_chunked(ref, arr, ev, cuts[: k + 1])
    assert ref.to_bytes() == final
    assert all(r.applied == 0 and not r.closed_bars and not r.rejects for r in again)
    assert sum(r.skipped_duplicates for r in again) == cuts[k]

    # Crash: state restored at chunk j, redelivery from an earlier committed chunk i <= j.
    j = data.draw(st.integers(0, len(cuts) - 1))
    i = data.draw(st.integers(0, j))
    s = InstrumentState(TOKEN)
    apply_chunked(s, arr, ev, cuts[: j + 1])
    restored = InstrumentState.from_bytes(s.to_bytes())
    for idx, (a, b) in enumerate(itertools.pairwise(cuts)):
        if idx >= i:
            apply_ticks(restored, arr[a:b], ev[a:b], 0, 100 + idx, np.arange(a, b))
    assert restored.to_bytes() == final


@PROP
@given(data=st.data())
def test_volume_bar_and_bucket_invariants(data):
    arr, ev = data.draw(day_sessions())
    cuts = data.draw(chunkings(len(arr)))
    s = InstrumentState(TOKEN)
    rs = apply_chunked(s, arr, ev, cuts)
    if data.draw(st.booleans()):
        rs.append(
            advance_watermark(s, int(ev.max()) + data.draw(st.integers(0, 4 * 3600)) * NS_PER_S)
        )
    bars, buckets, _ = flat(rs)
    ob = open_bar(s)
    all_bars = bars + ([ob] if ob is not None else [])
    vs = s.volume

    # (3) bars + open bar + unbarred + post-close == incremental == cumulative - baseline
    barred = sum(b.volume for b in all_bars)
    assert barred + s.bars.unbarred_volume + s.bars.post_close_volume == vs.incremental_total
    if vs.observed:
        assert vs.incremental_total == vs.cumulative - vs.baseline_volume

    # (4) OHLC consistent; bars strictly increasing
    for b in all_bars:
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        if b.vwap is not None:
            assert b.low - 1e-9 <= b.vwap <= b.high + 1e-9
    starts = [b.start_ns for b in all_bars]
    assert starts == sorted(set(starts))

    # (5) every resolution sums to the same total, each bucket closed at most once
    opens = open_buckets(s)
    for res in BUCKET_RESOLUTIONS:
        closed = [b for b in buckets if b.resolution == res]
        assert len({b.bucket_id for b in closed}) == len(closed)
        total = sum(b.volume for b in closed) + sum(b.volume for b in opens if b.resolution == res)
        assert total == barred
        assert sum(b.count for b in closed) + sum(
            b.count for b in opens if b.resolution == res
        ) == sum(b.tick_count for b in all_bars)

    # Counters add up.
    assert s.ticks_applied + sum(s.rejects.values()) == len(arr)


@PROP
@given(data=st.data())
def test_bytes_round_trip(data):
    arr, ev = data.draw(day_sessions())
    s = InstrumentState(TOKEN)
    apply_all(s, arr, ev)
    b = s.to_bytes()
    back = InstrumentState.from_bytes(b)
    assert back == s
    assert back.to_bytes() == b


@PROP
@given(data=st.data())
def test_python_and_numpy_precompute_agree(data):
    arr, ev = data.draw(day_sessions(max_size=3 * SMALL_SLICE))
    py = _precompute_python(arr, ev.tolist(), TOKEN)
    vec = _precompute_numpy(arr, ev.tolist(), TOKEN)
    # repr: NaN prices compare equal, and int/bool/float types must match too.
    assert repr(py) == repr(vec)


# ---------------------------------------------------------------- examples


def test_basic_flow_bars_buckets_session_hash():
    times = [t(9, 15, 1), t(9, 15, 30), t(9, 16, 2), t(9, 20, 0), t(9, 21, 0)]
    arr, ev = build(times, [100.0, 101.0, 99.5, 100.5, 100.0], [1000, 1500, 1600, 2000, 2100])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    assert r.applied == 5 and r.rejects == [] and r.skipped_duplicates == 0
    assert [b.start_ns for b in r.closed_bars] == [t(9, 15), t(9, 16), t(9, 20)]
    assert [b.volume for b in r.closed_bars] == [1500, 100, 400]
    # 1m buckets for each closed bar, and the 5m 09:15 bucket closed by the 09:20 tick.
    assert [(b.resolution, b.start_ns, b.volume) for b in r.closed_buckets] == [
        (1, t(9, 15), 1500),
        (1, t(9, 16), 100),
        (5, t(9, 15), 1600),
        (1, t(9, 20), 400),
    ]
    h = session_fields(s)
    assert h["zerodha_cumulative_volume"] == 2100
    assert h["bucket_incremental_volume"] == 100
    assert (h["high_price"], h["low_price"], h["last_price"]) == (101.0, 99.5, 100.0)
    assert h["update_count"] == 5
    assert h["last_update"] == t(9, 21) // NS_PER_S


def test_bad_price_and_decode_errors_rejected_and_counted():
    times = [t(10, 0, i) for i in range(6)]
    prices = [100.0, math.nan, math.inf, 0.0, -5.0, 100.0]
    arr, ev = build(times, prices, [10, 20, 30, 40, 50, 60], errors=[0, 0, 0, 0, 0, 1])
    s = InstrumentState(TOKEN)
    r = apply_ticks(s, arr, ev, 3, 7, np.array([0, 2, 4, 6, 8, 10]))
    assert r.rejects == [(2, "bad_price"), (4, "bad_price"), (6, "bad_price"),
                         (8, "bad_price"), (10, "decode_error")]  # fmt: skip
    assert r.applied == 1
    assert s.rejects == {"bad_price": 4, "decode_error": 1}
    assert s.positions == {3: (7, 10)}
    # Rejected ticks are not rejected twice on redelivery.
    r2 = apply_ticks(s, arr, ev, 3, 7, np.array([0, 2, 4, 6, 8, 10]))
    assert r2.rejects == [] and r2.skipped_duplicates == 6


def test_non_monotonic_volume_rejected():
    times = [t(10, 0, i) for i in range(4)]
    arr, ev = build(times, [100.0] * 4, [5000, 5100, 4000, 5200])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    assert r.rejects == [(2, "non_monotonic_volume")]
    assert s.rejects == {"non_monotonic_volume": 1}
    assert s.volume.baseline_volume == 5000  # first seen mid-day: baseline
    assert s.volume.incremental_total == 200
    assert s.bars.open_bar is not None and s.bars.open_bar.volume == 200


def test_new_trading_date_resets_volume():
    d2 = (2025, 10, 24)
    times = [t(9, 15), t(15, 0), t(9, 15, 10, day=d2), t(9, 16, 0, day=d2), t(15, 1)]
    arr, ev = build(times, [100.0] * 5, [1000, 50_000, 300, 900, 60_000])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    assert s.volume.incremental_total == 900  # day 2 only: first tick pre-09:16 counted
    assert session_fields(s)["trading_date"] == "2025-10-24"
    assert [b.start_ns for b in r.closed_bars] == [t(9, 15), t(15, 0), t(9, 15, day=d2)]
    assert r.rejects == [(4, "stale_trading_date")]
    # The day-1 15:00 bar's close also closed its open coarse buckets.
    assert {b.resolution for b in r.closed_buckets if b.start_ns < t(9, 15, day=d2)} == set(
        BUCKET_RESOLUTIONS
    )


def test_post_close_ticks_counted_not_barred():
    times = [t(15, 29, 10), t(15, 29, 50), t(15, 30, 0), t(15, 45), t(16, 0)]
    arr, ev = build(times, [100.0, 101.0, 101.0, 101.0, 101.0], [100, 200, 250, 300, 900])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    assert [b.start_ns for b in r.closed_bars] == [t(15, 29)]
    assert r.closed_bars[0].volume == 100  # first seen at 15:29:10 -> baseline 100
    assert s.bars.post_close_ticks == 3 and s.bars.post_close_volume == 700
    assert open_bar(s) is None
    assert open_buckets(s) == []
    assert sorted(b.resolution for b in r.closed_buckets) == sorted(BUCKET_RESOLUTIONS)
    # The 60m 09:15-aligned bucket 15:15 is cut at the close.
    assert any(b.resolution == 60 and b.start_ns == t(15, 15) for b in r.closed_buckets)


def test_late_ticks_counted_and_folded():
    times = [t(10, 0, 5), t(10, 1, 5), t(10, 0, 50), t(10, 1, 30)]
    arr, ev = build(times, [100.0, 100.0, 120.0, 100.0], [0, 0, 0, 0], kinds=[8, 8, 8, 8])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    assert r.late_ticks == 1 and s.late_ticks == 1
    ob = open_bar(s)
    assert ob is not None and ob.high == 100.0 and ob.tick_count == 3 and ob.late_ticks == 1


def test_watermark_closes_bar_and_buckets():
    arr, ev = build([t(15, 29, 40)], [100.0], [10])
    s = InstrumentState(TOKEN)
    apply_all(s, arr, ev)
    assert advance_watermark(s, t(15, 29, 59)).closed_bars == []
    r = advance_watermark(s, t(15, 30))
    assert [b.start_ns for b in r.closed_bars] == [t(15, 29)]
    assert sorted(b.resolution for b in r.closed_buckets) == sorted(BUCKET_RESOLUTIONS)
    assert advance_watermark(s, t(16, 0)).closed_buckets == []


def test_record_dicts_are_json_safe():
    import json

    arr, ev = build([t(9, 15, 1), t(9, 16, 1)], [100.0, 101.0], [10, 20])
    s = InstrumentState(TOKEN)
    r = apply_all(s, arr, ev)
    json.dumps([b.to_dict() for b in r.closed_bars], allow_nan=False)
    json.dumps([b.to_dict() for b in r.closed_buckets], allow_nan=False)
    assert r.closed_bars[0].to_dict()["bar_id"] == f"{TOKEN}:{t(9, 15) // 1_000_000}"


def test_caller_errors_raise():
    arr, ev = build([t(10, 0), t(10, 1)], [1.0, 1.0], [0, 0])
    s = InstrumentState(TOKEN)
    with pytest.raises(ValueError, match="increasing"):
        apply_ticks(s, arr, ev, 0, 0, np.array([1, 1]))
    with pytest.raises(ValueError, match="same length"):
        apply_ticks(s, arr, ev[:1], 0, 0, np.arange(2))
    with pytest.raises(ValueError, match="another token"):
        apply_ticks(InstrumentState(TOKEN + 1), arr, ev, 0, 0, np.arange(2))
    assert apply_ticks(s, arr[:0], ev[:0], 0, 0, np.arange(0)).applied == 0
    with pytest.raises(ValueError, match="format version"):
        InstrumentState.from_bytes(b'{"v":99}')


# ---------------------------------------------------------------- serialised form


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instrument_states())
def test_any_state_round_trips_through_named_components(s):
    b = s.to_bytes()
    back = InstrumentState.from_bytes(b)
    assert back == s
    assert back.to_bytes() == b
    doc = json.loads(b)
    assert doc["v"] == 2 and set(doc["c"]) == {"volume", "bars", "buckets"}
    assert ("an" in doc) == (s.analytics is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instrument_states(), st.randoms())
def test_bytes_do_not_depend_on_insertion_order(s, rnd):
    other = InstrumentState.from_bytes(s.to_bytes())
    items = list(other.rejects.items())
    rnd.shuffle(items)
    other.rejects = dict(items)
    if other.analytics is not None:
        parts = list(other.analytics.parts.values())
        rnd.shuffle(parts)
        other.analytics = Analytics()
        for p in parts:
            other.analytics.put(p)
    assert other.to_bytes() == s.to_bytes()


@pytest.mark.parametrize(("data", "message"), [
    (b'{"v":3,"token":1}', r"format version 3 is unknown to this build \(known: 1 \(upgraded "
                           r"on read\), 2\)"),
    (b'{"v":true}', "format version True is unknown"),
    (b'{"token":1}', "format version None is unknown"),
    (b"[2]", "not an InstrumentState: a JSON list"),
    (b"\xff", "not an InstrumentState"),
    (b'{"v":2,"token":1}', "malformed InstrumentState envelope"),
])
def test_unreadable_envelopes_are_refused(data, message):
    with pytest.raises(StateFormatError, match=message) as err:
        InstrumentState.from_bytes(data)
    assert isinstance(err.value, ValueError)


def _doc():
    s = InstrumentState(TOKEN, analytics=Analytics())
    apply_all(s, *build([t(10, 0), t(10, 1)], [100.0, 101.0], [10, 20]))
    return json.loads(s.to_bytes())


def test_tick_components_must_all_be_there_and_only_there():
    doc = _doc()
    del doc["c"]["bars"]
    with pytest.raises(StateFormatError, match="'bars' is missing from the tick state"):
        InstrumentState.from_bytes(json.dumps(doc).encode())
    doc = _doc()
    doc["c"]["vwap"] = [1, [1, 1.0, 1]]
    with pytest.raises(StateFormatError, match="vwap cannot be held by the tick state"):
        InstrumentState.from_bytes(json.dumps(doc).encode())
    doc = _doc()
    doc["an"]["volume"] = doc["c"]["volume"]
    with pytest.raises(StateFormatError, match="volume belong to the tick state"):
        InstrumentState.from_bytes(json.dumps(doc).encode())


def test_non_finite_values_are_refused_not_written():
    s = InstrumentState(TOKEN)
    s.volume.last_price = math.nan
    with pytest.raises(ValueError, match="JSON compliant"):
        s.to_bytes()
