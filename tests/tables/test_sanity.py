"""Edge sanity (tables/sanity.py): the probe's cases, one bad packet among 4,500 clean ones.

Every case runs the same 4,500 clean full-mode ticks of one stock through
``engine.apply_bundle`` in bundles of 1 to 29 ticks (so both the Python loop and the
compiled kernel see them), with one packet replaced by a bad one; exactly that packet
must be rejected, with its reason, and the 4,499 others applied. Reasons are spelled
out here as literals: they are the dead-letter contract.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from aion.streams.batch import ERROR_REASONS, TICK_DTYPE
from aion.tables.analytics import AnalyticsConfig
from aion.tables.engine import BundleOutcome, EngineContext, apply_bundle
from aion.tables.instrument_state import InstrumentState
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

TOKEN = 2885633
N = 4_500
RNG_SEED = 11


def clean_ticks() -> tuple[np.ndarray, np.ndarray]:
    """4,500 full-mode ticks, one every 5 s from 09:15:01 IST, price walk near 1,500."""
    rng = np.random.default_rng(RNG_SEED)
    arr = np.zeros(N, dtype=TICK_DTYPE)
    t0 = ist_wall_ns(2025, 11, 18, 9, 15, 1)
    recv = t0 + np.arange(N, dtype=np.int64) * 5 * NS_PER_S + 250_000_000
    arr["token"] = TOKEN
    arr["kind"] = 184
    arr["last_price"] = np.round(1500.0 + np.cumsum(rng.normal(0, 0.4, N)), 1)
    arr["volume"] = 1_000_000 + np.cumsum(rng.integers(0, 2_000, N))
    arr["exchange_ts"] = (recv - 250_000_000) // NS_PER_S
    return arr, recv


def run(arr: np.ndarray, recv: np.ndarray, context: EngineContext | None = None,
        ) -> tuple[list[tuple[int, str]], int, InstrumentState]:
    """Apply in bundles of 1..29 ticks; (global index, reason) of rejects, applied, state."""
    states: dict[int, InstrumentState] = {}
    rejects: list[tuple[int, str]] = []
    applied = 0
    start, size, offset = 0, 1, 0
    while start < len(arr):
        stop = min(len(arr), start + size)
        out: BundleOutcome = apply_bundle(
            states.get, arr[start:stop], recv[start:stop], 0, offset, known=lambda _t: True,
            error_reasons=ERROR_REASONS, context=context)
        states.update(out.touched)
        rejects.extend((start + r.index, r.reason) for r in out.rejects)
        applied += out.applied
        start, size, offset = stop, size % 29 + 1, offset + 1
    return rejects, applied, states[TOKEN]


def _set(field: str, value: float | int) -> Callable[[np.ndarray, np.ndarray, int], None]:
    def mutate(arr: np.ndarray, _recv: np.ndarray, i: int) -> None:
        arr[field][i] = value
    return mutate


def _shift_exchange(seconds: int) -> Callable[[np.ndarray, np.ndarray, int], None]:
    def mutate(arr: np.ndarray, _recv: np.ndarray, i: int) -> None:
        arr["exchange_ts"][i] += seconds
    return mutate


def _recv(value: int) -> Callable[[np.ndarray, np.ndarray, int], None]:
    def mutate(_arr: np.ndarray, recv: np.ndarray, i: int) -> None:
        recv[i] = value
    return mutate


def _scale_price(factor: float) -> Callable[[np.ndarray, np.ndarray, int], None]:
    def mutate(arr: np.ndarray, _recv: np.ndarray, i: int) -> None:
        arr["last_price"][i] *= factor
    return mutate


PROBE_CASES = {
    # The probe's findings (issue 11, item 2) ...
    "exchange_time_one_day_ahead": (_shift_exchange(86_400), "exchange_time_skew"),
    "exchange_time_u32_max": (_set("exchange_ts", 0xFFFF_FFFF), "exchange_time_skew"),
    "cumulative_volume_u32_max": (_set("volume", 0xFFFF_FFFF), "volume_jump"),
    "last_price_u32_max_paise": (_set("last_price", 42_949_672.95), "bad_price"),
    "exchange_time_1970": (_set("exchange_ts", 1_700_000), "exchange_time_skew"),
    # ... and their neighbours.
    "receive_time_int64_edge": (_recv(2**63 - 5 * 3600 * NS_PER_S), "receive_time_out_of_range"),
    "receive_time_1970": (_recv(1_234_567), "receive_time_out_of_range"),
    "price_ten_times": (_scale_price(10.0), "price_out_of_band"),
    "price_tenth": (_scale_price(0.1), "price_out_of_band"),
    "exchange_time_eleven_minutes_late": (_shift_exchange(-660), "exchange_time_skew"),
}


@pytest.mark.parametrize("position", [0, 1, 7, 2_250, N - 1])
@pytest.mark.parametrize("case", sorted(PROBE_CASES))
def test_one_bad_packet_rejects_exactly_itself(case: str, position: int) -> None:
    arr, recv = clean_ticks()
    mutate, reason = PROBE_CASES[case]
    mutate(arr, recv, position)
    rejects, applied, state = run(arr, recv)
    if position == 0 and reason in ("price_out_of_band",):
        # The very first tick has no reference price: it is the anchor, the next two
        # good ticks are out of its band, and the third re-anchors (tables.sanity).
        assert rejects == [(1, reason), (2, reason)]
        assert applied == N - 2
        return
    assert rejects == [(position, reason)]
    assert applied == N - 1
    assert state.ticks_applied == N - 1
    assert state.volume.day == 20410  # 2025-11-18: no packet moved the trading date
    assert state.volume.cumulative == int(arr["volume"][-1]) or position == N - 1


def test_clean_ticks_are_all_applied() -> None:
    arr, recv = clean_ticks()
    rejects, applied, state = run(arr, recv)
    assert rejects == [] and applied == N
    # Joined at 09:15:01 (before 09:16): the whole first cumulative counts.
    assert state.volume.incremental_total == int(arr["volume"][-1])


def test_a_wild_first_tick_costs_two_good_ones_not_the_day() -> None:
    arr, recv = clean_ticks()
    arr["last_price"][0] = 15_000.0  # a bit-flipped first price: it is the anchor
    rejects, applied, state = run(arr, recv)
    assert rejects == [(1, "price_out_of_band"), (2, "price_out_of_band")]
    assert applied == N - 2
    assert state.volume.last_price == arr["last_price"][-1]


def test_a_wild_first_cumulative_costs_two_good_ones_not_the_day() -> None:
    arr, recv = clean_ticks()
    start = ist_wall_ns(2025, 11, 18, 10, 0)  # joined mid-day: the first volume is a baseline
    recv += start - recv[0]
    arr["exchange_ts"] = (recv - 250_000_000) // NS_PER_S
    arr["volume"][0] = 2**31 + 5  # a flipped high bit
    rejects, applied, state = run(arr, recv)
    assert rejects == [(1, "non_monotonic_volume"), (2, "non_monotonic_volume")]
    assert applied == N - 2
    vs = state.volume
    # Re-anchored at tick 3 as a new baseline; increments from there on.
    assert vs.incremental_total == int(arr["volume"][-1] - arr["volume"][3])
    assert vs.cumulative - vs.baseline_volume == vs.incremental_total


def test_block_trade_and_a_long_gap_are_not_jumps() -> None:
    arr, recv = clean_ticks()
    arr["volume"][100:] += 400_000_000  # 10,000 lots of a 40,000-share lot in one tick
    # 1.2 billion after an hour's silence: the allowance grows by 100,000 a second.
    arr["volume"][3000:] += 1_200_000_000
    recv[3000:] += 3600 * NS_PER_S
    arr["exchange_ts"] = (recv - 250_000_000) // NS_PER_S
    rejects, applied, _ = run(arr, recv)
    assert rejects == [] and applied == N


def test_a_split_gap_re_anchors_after_two_ticks() -> None:
    arr, recv = clean_ticks()
    arr["last_price"][2000:] /= 2.0  # a 1:2 split (or any genuine move beyond the band)
    rejects, applied, _ = run(arr, recv)
    assert rejects == [(2000, "price_out_of_band"), (2001, "price_out_of_band")]
    assert applied == N - 2


def test_options_have_no_price_band() -> None:
    arr, recv = clean_ticks()
    arr["last_price"][10] *= 10.0
    ctx = EngineContext(AnalyticsConfig(), lambda _t: None,
                        lambda _t: ("NIFTY", "CE", 25_000.0, "2025-11-25", "NFO:NIFTY"), {})
    rejects, applied, _ = run(arr, recv, ctx)
    assert rejects == [] and applied == N
