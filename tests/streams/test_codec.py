"""Tests for aion.streams.codec against kiteconnect's own parser and real captures."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import struct
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kite_packets import KINDS, SEGMENTS, make_packet, packets
from kiteconnect import KiteTicker

from aion.streams.codec import (
    IST,
    SEGMENT_BCD,
    SEGMENT_CDS,
    SEGMENT_INDICES,
    SEGMENT_NCO,
    CodecError,
    DepthLevel,
    PacketKind,
    Tick,
    decode_frame,
    decode_packet,
    encode_frame,
    encode_packet,
    join_frame,
    price_divisor,
    split_frame,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kite"
KITE = KiteTicker("k", "t")  # never connects: only its parser is used

# Every segment kiteconnect knows, plus 0, 10, 11 and a stray high value.


def kite_parse(packet_list: list[bytes]) -> list[dict]:
    return KITE._parse_binary(join_frame(packet_list))


# --- packet kinds against kiteconnect -------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_packet_matches_kiteconnect(kind: PacketKind) -> None:
    @settings(max_examples=2000, deadline=None)
    @given(packets(kind))
    def check(packet: bytes) -> None:
        tick = decode_packet(packet)
        (expected,) = kite_parse([packet])
        assert tick.kind is kind
        assert tick.to_kite_dict() == expected
        assert tick.change == expected.get("change")
        assert encode_packet(tick) == packet

    check()


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_segment_matches_kiteconnect(kind: PacketKind, segment: int) -> None:
    # Deterministic packet per (kind, segment): odd prices expose a wrong divisor.
    body = bytes((i * 37 + 11) % 256 for i in range(kind.value))
    packet = make_packet(kind, body, segment)
    tick = decode_packet(packet)
    (expected,) = kite_parse([packet])
    assert tick.to_kite_dict() == expected
    assert tick.segment == segment
    assert tick.tradable is (segment != SEGMENT_INDICES)
    assert tick.divisor == price_divisor(tick.instrument_token)
    assert encode_packet(tick) == packet


def test_divisor_rule() -> None:
    assert price_divisor(SEGMENT_CDS) == 10_000_000.0
    assert price_divisor(SEGMENT_BCD) == 10_000.0
    assert price_divisor(SEGMENT_NCO) == 10_000.0
    assert KiteTicker.EXCHANGE_MAP["nco"] == SEGMENT_NCO  # kiteconnect: 12
    for seg in (0, 1, 2, 4, 5, 7, 8, 9, 10, 11, 13, 255):
        assert price_divisor((123456 << 8) | seg) == 100.0


def test_modes_and_optional_fields() -> None:
    ltp = decode_packet(struct.pack(">II", 256 + 1, 12345))
    assert (ltp.mode, ltp.change, ltp.volume_traded, ltp.depth_buy) == ("ltp", None, None, ())
    # Index layout: ltp, high, low, open, close, net change.
    idx = decode_packet(struct.pack(">7I", 256 + 9, 110, 120, 90, 95, 100, 7))
    assert (idx.mode, idx.tradable, idx.exchange_timestamp) == ("quote", False, None)
    assert (idx.high, idx.low, idx.open, idx.close, idx.net_change_raw) == (
        1.2, 0.9, 0.95, 1.0, 7)
    assert idx.change == pytest.approx(10.0)
    zero_close = decode_packet(struct.pack(">7I", 256 + 9, 110, 120, 90, 95, 0, 0))
    assert zero_close.change == 0.0
    assert zero_close.to_kite_dict()["change"] == 0
    assert decode_packet(struct.pack(">8I", 265, 1, 2, 3, 4, 5, 0, 7)).mode == "full"


# --- frames --------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(packets(), max_size=30))
def test_frame_round_trip_matches_kiteconnect(packet_list: list[bytes]) -> None:
    message = join_frame(packet_list)
    assert split_frame(message) == packet_list
    ticks = decode_frame(message)
    assert [t.to_kite_dict() for t in ticks] == KITE._parse_binary(message)
    assert encode_frame(ticks) == message


@pytest.mark.parametrize("message", [b"", b"\x00", b"\x07"])
def test_heartbeat_is_empty(message: bytes) -> None:
    assert split_frame(message) == []
    assert decode_frame(message) == []


def test_empty_frame() -> None:
    assert decode_frame(b"\x00\x00") == []
    assert join_frame([]) == b"\x00\x00"


@settings(max_examples=300, deadline=None)
@given(st.lists(packets(), min_size=1, max_size=5), st.data())
def test_truncated_frame_raises(packet_list: list[bytes], data: st.DataObject) -> None:
    message = join_frame(packet_list)
    cut = data.draw(st.integers(2, len(message) - 1))
    with pytest.raises(CodecError, match="truncated"):
        decode_frame(message[:cut])


@settings(max_examples=200, deadline=None)
@given(st.lists(packets(), max_size=5), st.binary(min_size=1, max_size=20))
def test_trailing_bytes_raise(packet_list: list[bytes], extra: bytes) -> None:
    with pytest.raises(CodecError, match="trailing"):
        decode_frame(join_frame(packet_list) + extra)


@pytest.mark.parametrize("length", [1, 3, 4, 7, 9, 27, 29, 43, 45, 183, 185, 300])
def test_unknown_packet_length_raises(length: int) -> None:
    with pytest.raises(CodecError, match="unknown packet length"):
        decode_packet(b"\x01" * length)
    good = make_packet(PacketKind.LTP, b"\x05" * 8, 1)
    with pytest.raises(CodecError, match="packet 1"):
        decode_frame(join_frame([good, b"\x01" * length]))


def test_zero_length_packet_raises() -> None:
    message = b"\x00\x02" + b"\x00\x08" + b"\x00" * 8 + b"\x00\x00"
    with pytest.raises(CodecError, match="zero-length packet 1"):
        decode_frame(message)
    assert split_frame(message, allow_empty=True)[1] == b""
    with pytest.raises(CodecError):
        join_frame([b""])


def test_join_frame_limits() -> None:
    with pytest.raises(CodecError):
        join_frame([b"\x00" * 8] * 65536)
    with pytest.raises(CodecError):
        join_frame([b"\x00" * 65536])


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_codec_error(message: bytes) -> None:
    try:
        ticks = decode_frame(message)
    except CodecError:
        return
    assert all(isinstance(t, Tick) for t in ticks)


@settings(max_examples=500, deadline=None)
@given(st.lists(packets(), min_size=1, max_size=4), st.binary(min_size=1, max_size=8),
       st.data())
def test_corrupted_frames_only_codec_error(
    packet_list: list[bytes], garbage: bytes, data: st.DataObject
) -> None:
    message = bytearray(join_frame(packet_list))
    pos = data.draw(st.integers(0, len(message) - 1))
    message[pos : pos + len(garbage)] = garbage
    with contextlib.suppress(CodecError):
        decode_frame(bytes(message))


# --- encoding errors ----------------------------------------------------------------


def _full_tick() -> Tick:
    return decode_frame((FIXTURES / "kiteconnectjs_fullMode_binary.packet").read_bytes())[0]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"last_price": -1.0}, "outside u32"),
        ({"last_price": 5e7}, "outside u32"),
        ({"last_price": math.nan}, "finite"),
        ({"open": math.inf}, "finite"),
        ({"volume_traded": None}, "missing"),
        ({"oi": 2**32}, "outside"),
        ({"exchange_timestamp": None}, "missing"),
        ({"last_traded_quantity": 1.5}, "integer"),
        ({"instrument_token": -5}, "outside"),
        ({"depth_buy": (DepthLevel(1, 1.0, 70000),)}, "orders"),
        ({"depth_sell": (DepthLevel(1, 1.0, 1),) * 6}, "depth levels"),
        ({"kind": 45}, "unknown packet kind"),
    ],
)
def test_encode_rejects(changes: dict, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        encode_packet(dataclasses.replace(_full_tick(), **changes))


def test_encode_short_depth_pads_with_zero_levels() -> None:
    tick = dataclasses.replace(_full_tick(), depth_buy=(DepthLevel(5, 392.95, 3),),
                               depth_sell=())
    again = decode_packet(encode_packet(tick))
    assert again.depth_buy[0] == DepthLevel(5, 392.95, 3)
    assert again.depth_buy[1:] == (DepthLevel(0, 0.0, 0),) * 4
    assert again.depth_sell == (DepthLevel(0, 0.0, 0),) * 5


def test_quote_kind_requires_quote_fields() -> None:
    with pytest.raises(CodecError, match="last_traded_quantity"):
        encode_packet(Tick(256 + 1, PacketKind.QUOTE, 10.0))
    with pytest.raises(CodecError, match="high"):
        encode_packet(Tick(256 + 9, PacketKind.INDEX_QUOTE, 10.0))
    assert encode_packet(Tick(256 + 1, PacketKind.LTP, 10.0)) == struct.pack(">II", 257, 1000)


# --- real captures --------------------------------------------------------------------


def _fixture(name: str) -> tuple[bytes, list[Tick]]:
    message = (FIXTURES / name).read_bytes()
    ticks = decode_frame(message)
    assert [t.to_kite_dict() for t in ticks] == KITE._parse_binary(message)
    assert encode_frame(ticks) == message
    return message, ticks


def test_fixture_infy_tcs() -> None:
    _, (infy, tcs) = _fixture("cppkiteconnect_websocket_ticks.bin")
    assert infy.instrument_token == 408065 and infy.kind is PacketKind.FULL
    assert (infy.last_price, infy.last_traded_quantity, infy.average_traded_price) == (
        1299.05, 2, 1290.29)
    assert (infy.volume_traded, infy.total_buy_quantity, infy.total_sell_quantity) == (
        6_065_675, 390_117, 410_173)
    assert (infy.open, infy.high, infy.low, infy.close) == (1285.5, 1305.9, 1275.5, 1272.1)
    assert infy.last_trade_time == infy.exchange_timestamp == 1612777255
    assert infy.exchange_datetime() == datetime(2021, 2, 8, 15, 10, 55, tzinfo=IST)
    assert infy.last_trade_datetime() == infy.exchange_datetime()
    assert infy.oi == 0
    assert infy.depth_buy == (
        DepthLevel(2098, 1299.00, 10), DepthLevel(6, 1298.90, 2), DepthLevel(135, 1298.80, 5),
        DepthLevel(1, 1298.75, 1), DepthLevel(55, 1298.70, 2))
    assert infy.depth_sell == (
        DepthLevel(335, 1299.05, 7), DepthLevel(1, 1299.10, 1), DepthLevel(45, 1299.40, 2),
        DepthLevel(120, 1299.45, 2), DepthLevel(233, 1299.50, 3))
    assert tcs.instrument_token == 2953217
    assert (tcs.last_price, tcs.last_traded_quantity, tcs.average_traded_price) == (
        3209.40, 148, 3188.32)
    assert (tcs.volume_traded, tcs.total_buy_quantity, tcs.total_sell_quantity) == (
        2_261_635, 146_646, 145_876)
    assert (tcs.open, tcs.high, tcs.low, tcs.close) == (3189.5, 3226, 3155.15, 3157.95)
    assert tcs.exchange_timestamp == 1612777254


def test_fixture_tatamotors_full() -> None:
    _, (t,) = _fixture("kiteconnectjs_fullMode_binary.packet")
    assert (t.instrument_token, t.mode, t.last_price, t.last_traded_quantity) == (
        884737, "full", 392.95, 2)
    assert (t.average_traded_price, t.volume_traded) == (403.07, 22_261_032)
    assert (t.total_buy_quantity, t.total_sell_quantity) == (5_617, 0)
    assert (t.open, t.high, t.low, t.close) == (420, 420.9, 390.1, 414.1)
    assert (t.last_trade_time, t.exchange_timestamp) == (1655375264, 1655378328)
    assert t.depth_buy[0] == DepthLevel(5617, 392.95, 30)
    assert all(lv == DepthLevel(0, 0.0, 0) for lv in t.depth_buy[1:] + t.depth_sell)


def test_fixture_tatamotors_quote_and_ltp() -> None:
    _, (full,) = _fixture("kiteconnectjs_fullMode_binary.packet")
    _, (quote,) = _fixture("kiteconnectjs_quoteMode_binary.packet")
    _, (ltp,) = _fixture("kiteconnectjs_ltpMode_binary.packet")
    assert quote.kind is PacketKind.QUOTE and quote.mode == "quote"
    quote_fields = ("instrument_token", "last_price", "last_traded_quantity",
                    "average_traded_price", "volume_traded", "total_buy_quantity",
                    "total_sell_quantity", "open", "high", "low", "close")
    assert all(getattr(quote, f) == getattr(full, f) for f in quote_fields)
    assert quote.exchange_timestamp is None and quote.depth_buy == ()
    assert (ltp.instrument_token, ltp.last_price, ltp.mode) == (884737, 392.95, "ltp")
