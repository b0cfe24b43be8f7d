"""Tests for aion.streams.batch: the vectorised decoder equals the single-packet one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kite_packets import KINDS, make_packet
from kite_packets import packets as valid_packets

from aion.streams.batch import (
    ERROR_EMPTY,
    ERROR_REASONS,
    ERROR_SHORT,
    ERROR_UNKNOWN_LENGTH,
    TICK_DTYPE,
    decode_frame_batch,
    decode_packets,
    read_frame_batch,
)
from aion.streams.codec import CodecError, PacketKind, Tick, decode_packet, join_frame

BAD_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 9, 27, 29, 31, 33, 43, 45, 183, 185, 250]


@st.composite
def bad_packets(draw: st.DrawFn) -> bytes:
    n = draw(st.sampled_from(BAD_LENGTHS))
    return draw(st.binary(min_size=n, max_size=n))


any_packets = st.one_of(valid_packets(), valid_packets(), valid_packets(), bad_packets())


def expected_row(tick: Tick) -> dict[str, object]:
    """What the batch row must hold, derived from the single decoder."""
    z = lambda v: 0 if v is None else v  # noqa: E731 - absent fields are 0 in the array
    return {
        "token": tick.instrument_token,
        "kind": int(tick.kind),
        "error": 0,
        "last_price": tick.last_price,
        "last_qty": z(tick.last_traded_quantity),
        "avg_price": z(tick.average_traded_price),
        "volume": z(tick.volume_traded),
        "buy_qty": z(tick.total_buy_quantity),
        "sell_qty": z(tick.total_sell_quantity),
        "open": z(tick.open),
        "high": z(tick.high),
        "low": z(tick.low),
        "close": z(tick.close),
        "last_trade_time": z(tick.last_trade_time),
        "oi": z(tick.oi),
        "oi_high": z(tick.oi_day_high),
        "oi_low": z(tick.oi_day_low),
        "exchange_ts": z(tick.exchange_timestamp),
        "bid_price": tick.depth_buy[0].price if tick.depth_buy else 0,
        "bid_qty": tick.depth_buy[0].quantity if tick.depth_buy else 0,
        "ask_price": tick.depth_sell[0].price if tick.depth_sell else 0,
        "ask_qty": tick.depth_sell[0].quantity if tick.depth_sell else 0,
    }


def assert_rows_match(rows: np.ndarray, packets: list[bytes]) -> None:
    assert rows.dtype == TICK_DTYPE
    assert len(rows) == len(packets)
    for row, packet in zip(rows, packets, strict=True):
        try:
            tick = decode_packet(packet)
        except CodecError:
            assert row["error"] in ERROR_REASONS
            assert row["kind"] == 0
            expected_token = int.from_bytes(packet[:4], "big") if len(packet) >= 4 else 0
            assert row["token"] == expected_token
            continue
        got = {name: row[name].item() for name in TICK_DTYPE.names}
        assert got == expected_row(tick)


def test_dtype_fields() -> None:
    assert TICK_DTYPE.names == (
        "token",
        "kind",
        "error",
        "last_price",
        "last_qty",
        "avg_price",
        "volume",
        "buy_qty",
        "sell_qty",
        "open",
        "high",
        "low",
        "close",
        "last_trade_time",
        "oi",
        "oi_high",
        "oi_low",
        "exchange_ts",
        "bid_price",
        "bid_qty",
        "ask_price",
        "ask_qty",
    )
    assert TICK_DTYPE["kind"] == np.dtype("u2")
    assert TICK_DTYPE["exchange_ts"] == np.dtype("i8")


@settings(max_examples=600, deadline=None)
@given(st.lists(any_packets, max_size=40))
def test_batch_equals_single_on_mixes(packets: list[bytes]) -> None:
    assert_rows_match(decode_packets(packets), packets)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_batch_equals_single_per_kind(kind: PacketKind) -> None:
    @settings(max_examples=150, deadline=None)
    @given(st.lists(valid_packets(kind), min_size=1, max_size=30))
    def check(packets: list[bytes]) -> None:
        assert_rows_match(decode_packets(packets), packets)
        # Uniform frames take the in-place path: same answer.
        assert_rows_match(decode_frame_batch(join_frame(packets)), packets)

    check()


@settings(max_examples=300, deadline=None)
@given(st.lists(any_packets, max_size=30))
def test_frame_batch_equals_single(packets: list[bytes]) -> None:
    rows = decode_frame_batch(join_frame(packets, allow_empty=True))
    assert_rows_match(rows, packets)


def test_error_codes() -> None:
    rows = decode_packets([b"", b"\x01\x02", b"\x00\x00\x01\x01\x09", b"\x00" * 8])
    assert rows["error"].tolist() == [ERROR_EMPTY, ERROR_SHORT, ERROR_UNKNOWN_LENGTH, 0]
    assert rows["token"].tolist() == [0, 0, 257, 0]
    assert rows["kind"].tolist() == [0, 0, 0, 8]


def test_empty_inputs() -> None:
    assert decode_packets([]).shape == (0,)
    for heartbeat in (b"", b"\x01"):
        assert decode_frame_batch(heartbeat).shape == (0,)
    assert decode_frame_batch(b"\x00\x00").shape == (0,)


def test_accepts_bytes_like() -> None:
    p = make_packet(PacketKind.QUOTE, bytes(range(44)), 1)
    rows = decode_packets([memoryview(p), bytearray(p)])
    assert rows[0] == rows[1]
    assert_rows_match(rows[:1], [p])


def test_uniform_length_prefix_mismatch_falls_back() -> None:
    a = make_packet(PacketKind.LTP, b"\x01" * 8, 1)
    # Same total size as two LTP packets, but the second length prefix differs.
    message = b"\x00\x02" + b"\x00\x08" + a + b"\x00\x03" + b"\x00\x00\x01" + b"\x00" * 5
    with pytest.raises(CodecError, match="trailing"):
        decode_frame_batch(message)
    rows, end = read_frame_batch(message)
    assert end == 2 + 10 + 5
    assert rows["error"].tolist() == [0, ERROR_SHORT]


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_packets(), min_size=1, max_size=5), st.data())
def test_truncated_frames_raise(packets: list[bytes], data: st.DataObject) -> None:
    message = join_frame(packets)
    cut = data.draw(st.integers(2, len(message) - 1))
    with pytest.raises(CodecError):
        decode_frame_batch(message[:cut])


def test_read_frame_batch_offset() -> None:
    p = make_packet(PacketKind.FULL, bytes(range(184)), 2)
    buf = b"xyz" + join_frame([p, p]) + b"tail"
    rows, end = read_frame_batch(buf, 3)
    assert buf[end:] == b"tail"
    assert_rows_match(rows, [p, p])


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_codec_error(message: bytes) -> None:
    try:
        rows = decode_frame_batch(message)
    except CodecError:
        return
    assert rows.dtype == TICK_DTYPE
