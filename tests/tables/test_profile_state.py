"""Profile component: the volume profile with its unpublished rows, and its payload."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from state_strategies import CONFIG, assert_round_trips, profile_states

from aion.tables.profile import VolumeProfile
from aion.tables.profile_state import ProfileState
from aion.tables.timeutil import ist_day, ist_wall_ns

T0 = ist_wall_ns(2025, 11, 18, 9, 15)


def feed(ps: ProfileState, prices, incs, t0=T0):
    ev = t0 + np.arange(len(prices), dtype=np.int64) * 1_000_000_000
    ps.add(np.asarray(prices, dtype=np.float64), np.asarray(incs, dtype=np.int64), ev, ist_day(ev))


def test_rows_that_gained_volume_are_remembered_until_published():
    ps = ProfileState(VolumeProfile(0.05, CONFIG.profile))
    feed(ps, [100.0, 100.5, 99.0], [10, 0, 5])  # 100.5 traded nothing
    assert (ps.dirty_lo, ps.dirty_hi) == (1980, 2000)
    feed(ps, [101.0], [1], T0 + 10**10)
    assert (ps.dirty_lo, ps.dirty_hi) == (1980, 2020)
    snap, dirty = ps.publish(T0 + 2 * 10**10)
    assert dirty == (1980, 2020) and snap.total_volume == 16
    assert (ps.dirty_lo, ps.dirty_hi) == (-1, -1)
    assert ps.publish(T0 + 3 * 10**10)[1] == (-1, -1)  # nothing new since


def test_an_empty_profile_publishes_nothing_and_keeps_its_range():
    ps = ProfileState(VolumeProfile(0.05, CONFIG.profile), 5, 9)
    assert ps.publish(T0) is None
    assert (ps.dirty_lo, ps.dirty_hi) == (5, 9)


def test_equality_is_by_bytes_and_range():
    a = ProfileState(VolumeProfile(0.05, CONFIG.profile))
    b = ProfileState(VolumeProfile(0.05, CONFIG.profile))
    feed(a, [100.0], [3])
    assert a != b
    feed(b, [100.0], [3])
    assert a == b
    b.dirty_hi += 1
    assert a != b


@settings(max_examples=100, deadline=None)
@given(profile_states())
def test_component_round_trips(ps: ProfileState) -> None:
    back = assert_round_trips(ps)
    assert back.profile.params == CONFIG.profile
    assert np.array_equal(back.profile.volumes(), ps.profile.volumes())
