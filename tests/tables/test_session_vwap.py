"""Session VWAP component: accumulation per trading date, and its payload."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from state_strategies import assert_round_trips, session_vwaps

from aion.tables.session_vwap import SessionVwap


def arrays(prices, incs, days):
    return (np.asarray(prices, dtype=np.float64), np.asarray(incs, dtype=np.int64),
            np.asarray(days, dtype=np.int64))


def test_accumulates_price_times_volume_of_the_day():
    v = SessionVwap()
    assert v.value is None
    v.add(*arrays([100.0, 101.0], [10, 30], [5, 5]))
    v.add(*arrays([99.0], [0], [5]))  # no new volume: moves nothing
    assert (v.day, v.pv, v.volume) == (5, 100.0 * 10 + 101.0 * 30, 40)
    assert v.value == (1000.0 + 3030.0) / 40


def test_a_new_date_restarts_and_drops_earlier_ticks_of_the_run():
    v = SessionVwap(4, 1e6, 10_000)
    v.add(*arrays([100.0, 200.0, 201.0], [5, 7, 3], [4, 5, 5]))
    assert (v.day, v.pv, v.volume) == (5, 200.0 * 7 + 201.0 * 3, 10)


@settings(max_examples=200, deadline=None)
@given(session_vwaps())
def test_component_round_trips(v: SessionVwap) -> None:
    assert_round_trips(v)
