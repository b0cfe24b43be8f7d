from __future__ import annotations

import pytest
from hypothesis import given, settings
from state_strategies import assert_round_trips, bucket_states, volume_states

from aion.tables import volume as v
from aion.tables.analytics import default_config
from aion.tables.timeutil import NS_PER_MIN, ist_day
from aion.tables.timeutil import ist_wall_ns as ist_ns

D = (2025, 10, 23)
CONFIG = default_config()


def t(h, m, s=0, day=D):
    return ist_ns(*day, h, m, s)


def step(vs, ts, cum, has_volume=True, price=100.0):
    early = (ts // NS_PER_MIN + 330) % 1440 < v.BASELINE_CUTOFF_MINUTE
    return v.volume_step(vs, ist_day(ts), ts, has_volume, cum, price, early)


def test_first_observation_before_0916_counts_in_full():
    vs = v.VolumeState()
    assert step(vs, t(9, 15, 30), 5000) == 5000
    assert vs.baseline_volume == 0
    assert step(vs, t(9, 15, 40), 5600) == 600
    assert vs.incremental_total == 5600 == vs.cumulative - vs.baseline_volume


def test_first_observation_mid_day_is_baseline():
    vs = v.VolumeState()
    assert step(vs, t(11, 0), 1_000_000) == 0
    assert vs.baseline_volume == 1_000_000
    assert step(vs, t(11, 0, 5), 1_000_250) == 250
    assert vs.cumulative - vs.baseline_volume == vs.incremental_total == 250


def test_non_monotonic_rejected_and_state_untouched():
    vs = v.VolumeState()
    step(vs, t(9, 15), 1000)
    before = vs.encode()
    assert step(vs, t(9, 16), 900, price=101.0) == v.NON_MONOTONIC
    # Untouched but for the re-anchoring streak (tables.sanity).
    assert vs.encode()[:11] == before[:11]
    assert (vs.volume_streak, vs.volume_candidate) == (1, 900)
    assert step(vs, t(9, 17), 1100) == 100  # increment measured from the last good value


def test_ltp_packets_carry_no_volume_but_move_prices():
    vs = v.VolumeState()
    step(vs, t(9, 15), 1000, price=100.0)
    assert step(vs, t(9, 16), 0, has_volume=False, price=105.0) == 0
    assert vs.cumulative == 1000
    assert (vs.high_price, vs.low_price, vs.last_price) == (105.0, 100.0, 105.0)
    assert vs.last_incremental == 0
    assert vs.update_count == 2


def test_new_trading_date_resets_and_old_date_is_stale():
    vs = v.VolumeState()
    step(vs, t(9, 15), 1000)
    step(vs, t(15, 0), 9000, price=90.0)
    d2 = (2025, 10, 24)
    assert step(vs, t(9, 15, 5, day=d2), 700, price=95.0) == 700
    assert vs.incremental_total == 700
    assert (vs.high_price, vs.low_price, vs.update_count) == (95.0, 95.0, 1)
    assert step(vs, t(15, 1), 9500) == v.STALE


def test_session_hash_fields():
    vs = v.VolumeState()
    step(vs, t(12, 54, 2), 43_525_526, price=1008.8)
    step(vs, t(12, 55, 23), 43_526_526, price=1008.8)
    h = v.session_hash(vs)
    assert h["zerodha_cumulative_volume"] == 43_526_526
    assert h["bucket_incremental_volume"] == 1000
    assert h["update_count"] == 2
    assert h["last_update"] == t(12, 55, 23) // 1_000_000_000
    assert h["trading_date"] == "2025-10-23"


def test_bucket_fold_roll_and_close():
    bk = v.BucketState()
    tok = 7
    recs = []
    # Minutes 09:15..09:19 each 10 volume, then a tick opens 09:20.
    for m in range(15, 20):
        s = t(9, m)
        recs += v.fold_minute(bk, tok, s, 10, 2, s, s + 30 * 10**9, 100.0 + m)
    assert [r.resolution for r in recs] == [1] * 5
    closed = v.roll_to(bk, tok, t(9, 20))
    assert [(r.resolution, r.volume, r.count) for r in closed] == [(5, 50, 10)]
    assert closed[0].start_ns == t(9, 15)
    assert closed[0].last_price == 119.0
    d = closed[0].to_dict()
    assert d["first_timestamp"] == "2025-10-23T09:15:00+05:30"
    assert d["bucket_incremental_volume"] == d["incremental_volume"] == d["volume"] == 50
    assert d["bucket_time"] == "09:15"
    # 10..60 still open; a watermark at 09:25 closes the 10m one only.
    assert [r.resolution for r in v.advance_buckets(bk, tok, t(9, 25))] == [10]
    assert [r.resolution for r in v.close_all(bk, tok)] == [15, 30, 60]
    assert v.close_all(bk, tok) == []


def test_current_buckets_merges_open_minute():
    bk = v.BucketState()
    s = t(9, 15)
    v.fold_minute(bk, 1, s, 10, 1, s, s, 100.0)
    cur = v.current_buckets(bk, 1, (t(9, 16), 5, 1, t(9, 16), t(9, 16), 101.0))
    assert [(r.resolution, r.volume) for r in cur] == [
        (1, 5),
        (5, 15),
        (10, 15),
        (15, 15),
        (30, 15),
        (60, 15),
    ]


def test_state_payloads_round_trip():
    vs = v.VolumeState()
    step(vs, t(9, 15), 1000, price=0.1 + 0.2)
    assert v.VolumeState.decode(vs.encode(), 2, CONFIG) == vs
    assert v.VolumeState.decode(vs.encode()[:11], 1, CONFIG) == vs  # v1: streaks at 0
    bk = v.BucketState()
    v.fold_minute(bk, 1, t(9, 15), 10, 1, t(9, 15), t(9, 15), 1 / 3)
    assert v.BucketState.decode(bk.encode(), 1, CONFIG) == bk


@settings(max_examples=200, deadline=None)
@given(volume_states())
def test_volume_state_component_round_trips(vs: v.VolumeState) -> None:
    assert_round_trips(vs)


@settings(max_examples=200, deadline=None)
@given(bucket_states())
def test_bucket_state_component_round_trips(bk: v.BucketState) -> None:
    assert_round_trips(bk)


def test_bucket_payload_must_have_every_resolution() -> None:
    with pytest.raises(ValueError, match="wrong number of resolutions"):
        v.BucketState.decode(v.BucketState().encode()[:-1], 1, CONFIG)
