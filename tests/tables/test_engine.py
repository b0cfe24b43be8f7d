"""The bundle engine: grouping, rejects, touched states, end-of-stream flush."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.streams.batch import ERROR_REASONS, TICK_DTYPE, decode_packets
from aion.tables.engine import (
    END_OF_STREAM_NS,
    REJECT_UNKNOWN_TOKEN,
    apply_bundle,
    flush_states,
)
from aion.tables.instrument_state import InstrumentState, apply_ticks
from aion.tables.timeutil import event_time_ns, ist_wall_ns

A, B, UNKNOWN = 341249, 408065, 999_999 << 8 | 1
KNOWN = {A, B}


def ticks(rows: list[tuple[int, float, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(token, price, cumulative volume, second after 10:00 IST) rows as full packets."""
    arr = np.zeros(len(rows), dtype=TICK_DTYPE)
    recv = np.zeros(len(rows), dtype=np.int64)
    for i, (token, price, vol, sec) in enumerate(rows):
        t = ist_wall_ns(2025, 11, 18, 10, 0, 0) + sec * 1_000_000_000
        arr[i]["token"], arr[i]["kind"], arr[i]["last_price"] = token, 184, price
        arr[i]["volume"], arr[i]["exchange_ts"] = vol, t // 1_000_000_000
        recv[i] = t + 5_000_000
    return arr, recv


def test_groups_by_token_in_arrival_order_and_touches_each_once() -> None:
    rows, recv = ticks([(A, 100, 10, 0), (B, 50, 5, 1), (A, 101, 20, 2), (B, 51, 9, 3)])
    states: dict[int, InstrumentState] = {}
    out = apply_bundle(states.get, rows, recv, 0, 7, known=KNOWN.__contains__,
                       error_reasons=ERROR_REASONS)
    assert set(out.touched) == {A, B}
    assert out.applied == 4 and not out.rejects
    assert out.touched[A].volume.cumulative == 20
    assert out.touched[A].positions == {0: (7, 2)}
    assert out.touched[B].positions == {0: (7, 3)}
    # Same as applying each token's slice directly.
    ref = InstrumentState(A)
    idx = np.array([0, 2])
    apply_ticks(ref, rows[idx], event_time_ns(rows["kind"], rows["exchange_ts"], recv)[idx],
                0, 7, idx)
    assert ref.to_bytes() == out.touched[A].to_bytes()


def test_decode_errors_and_unknown_tokens_are_rejected_with_reasons() -> None:
    good, recv = ticks([(A, 100, 10, 0), (UNKNOWN, 5, 1, 1)])
    bad = decode_packets([b"", b"\x00\x01"])  # zero-length and 2-byte garbage
    rows = np.concatenate([good[:1], bad, good[1:]])
    recv = np.concatenate([recv[:1], [recv[0]] * 2, recv[1:]])
    out = apply_bundle({}.get, rows, recv, 1, 3, known=KNOWN.__contains__,
                       error_reasons=ERROR_REASONS)
    reasons = {r.index: r.reason for r in out.rejects}
    assert reasons[1].startswith("decode_error:") and reasons[2].startswith("decode_error:")
    assert reasons[3] == REJECT_UNKNOWN_TOKEN
    assert set(out.touched) == {A}
    assert out.applied == 1


def test_bad_price_and_volume_drop_are_rejected_not_applied() -> None:
    rows, recv = ticks([(A, 100, 10, 0), (A, float("nan"), 11, 1), (A, 101, 5, 2)])
    out = apply_bundle({}.get, rows, recv, 0, 0, known=KNOWN.__contains__,
                       error_reasons=ERROR_REASONS)
    assert sorted(r.reason for r in out.rejects) == ["bad_price", "non_monotonic_volume"]
    assert out.touched[A].volume.cumulative == 10


def test_redelivered_bundle_changes_nothing() -> None:
    rows, recv = ticks([(A, 100, 10, 0), (A, 101, 20, 70)])
    states: dict[int, InstrumentState] = {}
    first = apply_bundle(states.get, rows, recv, 0, 4, known=KNOWN.__contains__,
                         error_reasons=ERROR_REASONS)
    states.update(first.touched)
    snapshot = states[A].to_bytes()
    again = apply_bundle(states.get, rows, recv, 0, 4, known=KNOWN.__contains__,
                         error_reasons=ERROR_REASONS)
    assert again.duplicates == 2 and again.applied == 0 and not again.touched
    assert not again.bars
    assert states[A].to_bytes() == snapshot


def test_flush_closes_open_bars_once() -> None:
    rows, recv = ticks([(A, 100, 10, 0), (B, 50, 5, 1)])
    out = apply_bundle({}.get, rows, recv, 0, 0, known=KNOWN.__contains__,
                       error_reasons=ERROR_REASONS)
    flushed = flush_states(out.touched, END_OF_STREAM_NS)
    assert {b.token for b in flushed.bars} == {A, B}
    assert flush_states(out.touched, END_OF_STREAM_NS).bars == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([A, B]), st.integers(1, 30)), min_size=1,
                max_size=60), st.integers(1, 10))
def test_bundle_cut_does_not_change_state(steps: list[tuple[int, int]], cut: int) -> None:
    rows_list, vol = [], {A: 0, B: 0}
    for sec, (token, dv) in enumerate(steps):
        vol[token] += dv
        rows_list.append((token, 100.0 + sec % 7, vol[token], sec * 13))
    rows, recv = ticks(rows_list)
    whole: dict[int, InstrumentState] = {}
    whole.update(apply_bundle(whole.get, rows, recv, 0, 0, known=KNOWN.__contains__,
                              error_reasons=ERROR_REASONS).touched)
    parts: dict[int, InstrumentState] = {}
    for offset, start in enumerate(range(0, len(rows), cut)):
        sl = slice(start, start + cut)
        parts.update(apply_bundle(parts.get, rows[sl], recv[sl], 0, offset,
                                  known=KNOWN.__contains__,
                                  error_reasons=ERROR_REASONS).touched)
    for token in whole:
        a, b = whole[token], parts[token]
        a.positions, b.positions = {}, {}  # the only bundling-dependent field
        assert a.to_bytes() == b.to_bytes()
