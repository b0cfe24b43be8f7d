"""Analytics fused into the bundle engine: VWAP, indicators, volume ratio, profile, chain feed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aion.agents.writers.profile_payloads import (
    distribution_rows,
    publish_payloads,
    snapshot_from_record,
)
from aion.streams.batch import ERROR_REASONS, TICK_DTYPE
from aion.tables.analytics import Analytics, AnalyticsConfig, InstrumentInfo
from aion.tables.chain import CLOCK_END, KIND_CE, KIND_SPOT
from aion.tables.engine import END_OF_STREAM_NS, EngineContext, apply_bundle, flush_states
from aion.tables.indicators import IndicatorSet
from aion.tables.instrument_state import InstrumentState
from aion.tables.profile_state import ProfileState
from aion.tables.records import (
    IndicatorUpdate,
    ProfileUpdate,
    RecordCodec,
    VolumeRatio,
    VwapUpdate,
    encode,
)
from aion.tables.session_vwap import SessionVwap
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

A, SPOT, OPT = 341249, 256265, 10_000_001 << 8 | 2
AVG = 3_750_000.0
CONFIG = AnalyticsConfig()


def context() -> EngineContext:
    info = {A: InstrumentInfo(0.05, AVG), SPOT: InstrumentInfo(0.0, None),
            OPT: InstrumentInfo(0.05, None)}
    members = {SPOT: ("NSE:NIFTY 50", KIND_SPOT, 0.0, "", "NSE:NIFTY 50"),
               OPT: ("NSE:NIFTY 50", KIND_CE, 26000.0, "2025-11-25", "NFO:NIFTY25N2526000CE")}
    return EngineContext(CONFIG, info.get, members.get, {"NSE:NIFTY 50": (0, 1)})


def session(seed: int, n: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Ticks of A every 2 s from 09:15, a random walk on the 0.05 grid."""
    rng = np.random.default_rng(seed)
    arr = np.zeros(n, dtype=TICK_DTYPE)
    t0 = ist_wall_ns(2025, 11, 18, 9, 15, 1)
    times = t0 + np.arange(n, dtype=np.int64) * 2 * NS_PER_S
    arr["token"], arr["kind"] = A, 184
    arr["last_price"] = np.round((1500 + np.cumsum(rng.normal(0, 0.4, n))) / 0.05) * 0.05
    arr["volume"] = np.cumsum(rng.integers(0, 400, n))
    arr["exchange_ts"] = times // NS_PER_S
    return arr, times + 1_000_000


def run(arr: np.ndarray, recv: np.ndarray, bundle: int):
    states: dict[int, InstrumentState] = {}
    docs, bars = [], []
    for off, i in enumerate(range(0, len(arr), bundle)):
        out = apply_bundle(states.get, arr[i:i + bundle], recv[i:i + bundle], 0, off,
                           known=lambda t: True, error_reasons=ERROR_REASONS, context=context())
        states.update(out.touched)
        docs.extend(out.records)
        bars.extend(out.bars)
    out = flush_states(states, END_OF_STREAM_NS, context(), 0, 10**6)
    docs.extend(out.records)
    bars.extend(out.bars)
    return states, docs, out, bars


def test_vwap_and_indicators_follow_their_definitions():
    arr, recv = session(1)
    states, docs, _, bars = run(arr, recv, 97)
    an = states[A].analytics
    # Session VWAP over incremental volume (the first tick is before 09:16, so its
    # cumulative volume is the day's own).
    inc = np.diff(arr["volume"].astype(np.int64), prepend=0)
    want = float(np.dot(arr["last_price"], inc)) / inc.sum()
    vwap = an.get(SessionVwap)
    assert vwap.pv / vwap.volume == vwap.value == pytest.approx(want, rel=1e-12)
    assert [d for d in docs if isinstance(d, VwapUpdate)][-1].vwap == pytest.approx(
        want, rel=1e-12)
    # The indicators saw exactly the closed bars, in order (50 minutes of ticks).
    ref = IndicatorSet(CONFIG.indicators)
    for b in bars:
        ref.update_bar(b.open, b.high, b.low, b.close, float(b.volume))
    assert len(bars) == an.bars == 50
    assert an.indicators.to_bytes() == ref.to_bytes()
    assert [d for d in docs if isinstance(d, IndicatorUpdate)][-1].values == ref.values()


def test_bundling_does_not_change_the_analytics():
    arr, recv = session(2)
    s1, _, _, _ = run(arr, recv, 13)
    s2, _, _, _ = run(arr, recv, 500)
    a1, a2 = s1[A].analytics, s2[A].analytics
    assert a1.indicators.to_bytes() == a2.indicators.to_bytes()
    p1, p2 = a1.get(ProfileState), a2.get(ProfileState)
    assert np.array_equal(p1.profile.volumes(), p2.profile.volumes())
    v1, v2 = a1.get(SessionVwap), a2.get(SessionVwap)
    assert v1.volume == v2.volume
    assert v1.pv == pytest.approx(v2.pv, rel=1e-12)
    restored = InstrumentState.from_bytes(s1[A].to_bytes())
    assert restored.to_bytes() == s1[A].to_bytes()


def test_volume_ratio_uses_the_time_aware_baseline():
    arr, recv = session(3)
    _, docs, _, _ = run(arr, recv, 200)
    ratios = [d for d in docs if isinstance(d, VolumeRatio)]
    assert {r.resolution for r in ratios} == {1, 5, 10, 15, 30, 60}
    base = CONFIG.baseline
    for r in ratios:
        minute = (r.start_ns - ist_wall_ns(2025, 11, 18, 9, 15)) // (60 * NS_PER_S)
        exp = base.expected(base.minute_base(AVG), int(minute), r.resolution)
        assert r.expected == pytest.approx(exp)
        assert r.volume_ratio == pytest.approx(min(r.volume / exp, 10.0))


def test_profile_published_on_cadence_and_at_end():
    arr, recv = session(4)
    _, docs, flush, _ = run(arr, recv, 50)
    # The analytics carry the snapshot; the mirror's writer formats it (profile_payloads).
    codec = RecordCodec([ProfileUpdate])
    profiles = []
    for d in docs:
        if isinstance(d, ProfileUpdate):
            rec = codec.decode(encode(d))  # through the wire form
            assert rec == d
            snap = snapshot_from_record(rec)
            profiles.append(publish_payloads(snap) | {
                "distribution": distribution_rows(snap, rec.dirty_lo, rec.dirty_hi)})
    # 1500 ticks, 100-tick or 1-minute cadence: at least 15 publishes, and a final one.
    assert len(profiles) >= 15
    assert any(isinstance(r, ProfileUpdate) and r.token == A for r in flush.records)
    last = profiles[-1]
    assert float(last["poc"]["value_area_low"]) <= float(last["poc"]["poc_price"]) \
        <= float(last["poc"]["value_area_high"])
    # Each publish carries the rows that changed; merged (as HSET does) they are the
    # session's whole distribution, which the session hash carries in one field.
    merged: dict[str, str] = {}
    for prof in profiles:
        merged.update(prof["distribution"])
    dist = {float(p): int(v) for p, v in merged.items()}
    assert merged == {p: str(v) for p, v in json.loads(
        last["session"]["price_volume_distribution"]).items()}
    inc = np.diff(arr["volume"].astype(np.int64), prepend=0)
    assert sum(dist.values()) == inc.sum()
    assert max(len(p["distribution"]) for p in profiles[1:]) < len(merged)


def test_chain_inputs_for_fed_underlyings():
    arr = np.zeros(3, dtype=TICK_DTYPE)
    t = ist_wall_ns(2025, 11, 18, 9, 30)
    arr["token"] = [SPOT, OPT, OPT]
    arr["kind"] = [32, 184, 184]
    arr["last_price"] = [25950.0, 101.0, 102.5]
    arr["volume"] = [0, 100, 250]
    arr["oi"] = [0, 5000, 5100]
    arr["exchange_ts"] = t // NS_PER_S
    recv = np.array([t + 1, t + 2, t + 3], dtype=np.int64)
    out = apply_bundle({}.get, arr, recv, 1, 42, known=lambda _: True,
                       error_reasons=ERROR_REASONS, context=context())
    (item,) = out.chain
    assert (item.underlying, item.partition, item.offset, item.clock_ns) == (
        "NSE:NIFTY 50", 1, 42, t + 3)
    by = {q.token: q for q in item.quotes}
    assert by[SPOT].price == 25950.0 and by[OPT].price == 102.5 and by[OPT].oi == 5100
    # A partition that feeds no chain sends nothing; the end of stream lifts the clock.
    assert apply_bundle({}.get, arr[:0], recv[:0], 2, 0, known=lambda _: True,
                        error_reasons=ERROR_REASONS, context=context()).chain == []
    eos = flush_states({}, END_OF_STREAM_NS, context(), 0, 9).chain
    assert [(e.underlying, e.clock_ns) for e in eos] == [("NSE:NIFTY 50", CLOCK_END)]


def test_analytics_hold_components_by_name():
    arr, recv = session(5, n=200)
    states, _, _, bars = run(arr, recv, 40)
    an = states[A].analytics
    assert set(an.parts) == {"indicators", "profile", "vwap"}  # no VIX: not INDIA VIX
    assert an.get(IndicatorSet) is an.indicators is an.parts["indicators"]
    assert an.bars == an.indicators.bars == len(bars) == 7
    assert an.setdefault(SessionVwap, SessionVwap) is an.get(SessionVwap)
    fresh = Analytics()
    assert fresh.get(IndicatorSet) is None and fresh.bars == 0
    made = fresh.setdefault(SessionVwap, SessionVwap)
    assert fresh.put(made) is made and fresh.parts == {"vwap": made}
