"""Single-packet codec for Zerodha Kite WebSocket binary messages.

Mirrors ``kiteconnect.KiteTicker._parse_binary`` / ``_split_packets`` (kiteconnect 5.x),
field for field, and adds the reverse direction (encoding) plus strict validation:
kiteconnect silently skips or truncates malformed input, this module raises
:class:`CodecError` instead.

Wire format (all integers big-endian, unsigned):

* A **message** (frame) is ``u16 packet count`` followed, per packet, by ``u16 length``
  and ``length`` bytes. A message shorter than 2 bytes is a heartbeat (no packets).
* A **packet** starts with ``u32 instrument_token``; its kind is given by its length:

  ====================  ======  ===========================================================
  kind                  length  layout after the token (u32 each unless noted)
  ====================  ======  ===========================================================
  LTP                   8       last price
  INDEX_QUOTE           28      last price, high, low, open, close, price change
  INDEX_FULL            32      as INDEX_QUOTE, then exchange timestamp
  QUOTE                 44      last price, last qty, avg price, volume, buy qty, sell qty,
                                open, high, low, close
  FULL                  184     as QUOTE, then last trade time, oi, oi day high, oi day low,
                                exchange timestamp, then 10 depth levels (5 buy, 5 sell) of
                                12 bytes: u32 qty, u32 price, u16 orders, 2 padding bytes
  ====================  ======  ===========================================================

Prices are integers divided by a per-segment divisor (see :func:`price_divisor`); the
segment is the low byte of the instrument token.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "FRAME_MAX_PACKETS",
    "IST",
    "SEGMENT_BCD",
    "SEGMENT_BFO",
    "SEGMENT_BSE",
    "SEGMENT_CDS",
    "SEGMENT_INDICES",
    "SEGMENT_MCX",
    "SEGMENT_MCXSX",
    "SEGMENT_NCO",
    "SEGMENT_NFO",
    "SEGMENT_NSE",
    "CodecError",
    "DepthLevel",
    "PacketKind",
    "Tick",
    "decode_frame",
    "decode_packet",
    "encode_frame",
    "encode_packet",
    "is_tradable",
    "join_frame",
    "price_divisor",
    "read_frame",
    "split_frame",
]

IST = ZoneInfo("Asia/Kolkata")

# Segment codes: the low byte of an instrument token (kiteconnect's EXCHANGE_MAP).
SEGMENT_NSE = 1
SEGMENT_NFO = 2
SEGMENT_CDS = 3
SEGMENT_BSE = 4
SEGMENT_BFO = 5
SEGMENT_BCD = 6  # kiteconnect also maps "bsecds" here
SEGMENT_MCX = 7
SEGMENT_MCXSX = 8
SEGMENT_INDICES = 9
SEGMENT_NCO = 12  # kiteconnect's value; not 10

FRAME_MAX_PACKETS = 0xFFFF
_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF
_DEPTH_LEVELS = 5

_U16 = struct.Struct(">H")
_LTP = struct.Struct(">II")
_INDEX_QUOTE = struct.Struct(">7I")
_INDEX_FULL = struct.Struct(">8I")
_QUOTE = struct.Struct(">11I")
# Depth padding is written as zeros and ignored on read ("xx").
_FULL = struct.Struct(">16I" + "IIHxx" * (2 * _DEPTH_LEVELS))


class CodecError(ValueError):
    """Malformed Kite binary input (or a tick that cannot be encoded).

    The one error type this module raises for bad data; the message says what was
    wrong and where (byte offset / packet index).
    """


class PacketKind(enum.IntEnum):
    """Kite packet kind; the value is the packet length in bytes."""

    LTP = 8
    INDEX_QUOTE = 28
    INDEX_FULL = 32
    QUOTE = 44
    FULL = 184


_KIND_BY_LENGTH: dict[int, PacketKind] = {k.value: k for k in PacketKind}
_MODE = {
    PacketKind.LTP: "ltp",
    PacketKind.INDEX_QUOTE: "quote",
    PacketKind.INDEX_FULL: "full",
    PacketKind.QUOTE: "quote",
    PacketKind.FULL: "full",
}


def price_divisor(token: int) -> float:
    """Return the price divisor for an instrument token (the one home of this rule).

    Args:
        token: Kite instrument token (or a bare segment code 0-255: only the low byte
            is looked at).

    Returns:
        1e7 for currency derivatives (CDS), 1e4 for BSE currency (BCD) and NCO, else 100.
    """
    segment = token & 0xFF
    if segment == SEGMENT_CDS:
        return 10_000_000.0
    if segment in (SEGMENT_BCD, SEGMENT_NCO):
        return 10_000.0
    return 100.0


def is_tradable(token: int) -> bool:
    """Return whether the instrument is tradable (indices are not), as kiteconnect does.

    Args:
        token: Kite instrument token.

    Returns:
        False for the indices segment, True otherwise.
    """
    return (token & 0xFF) != SEGMENT_INDICES


def _local_datetime(ts: int | None, tz: tzinfo | None) -> datetime | None:
    """Convert epoch seconds the way kiteconnect does (None when it cannot)."""
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, tz)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class DepthLevel:
    """One market-depth level.

    Attributes:
        quantity: Total quantity at this price.
        price: Price (already divided by the segment divisor).
        orders: Number of orders at this price.
    """

    quantity: int
    price: float
    orders: int


@dataclass(frozen=True, slots=True)
class Tick:
    """One decoded Kite packet; field names follow kiteconnect.

    Fields a packet kind does not carry are None (depth: empty). Prices are floats
    computed exactly as kiteconnect does (``raw / divisor``); times are epoch seconds.

    ``net_change_raw`` holds bytes 24-28 of index packets (Kite documents them as the
    price change; kiteconnect ignores them and computes ``change`` itself). It is kept
    only so that :func:`encode_packet` reproduces index packets byte for byte.
    """

    instrument_token: int
    kind: PacketKind
    last_price: float
    last_traded_quantity: int | None = None
    average_traded_price: float | None = None
    volume_traded: int | None = None
    total_buy_quantity: int | None = None
    total_sell_quantity: int | None = None
    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    last_trade_time: int | None = None
    oi: int | None = None
    oi_day_high: int | None = None
    oi_day_low: int | None = None
    exchange_timestamp: int | None = None
    depth_buy: tuple[DepthLevel, ...] = ()
    depth_sell: tuple[DepthLevel, ...] = ()
    net_change_raw: int | None = None

    @property
    def segment(self) -> int:
        """Segment code (low byte of the instrument token)."""
        return self.instrument_token & 0xFF

    @property
    def divisor(self) -> float:
        """Price divisor of this instrument's segment."""
        return price_divisor(self.instrument_token)

    @property
    def tradable(self) -> bool:
        """False for indices, True otherwise."""
        return is_tradable(self.instrument_token)

    @property
    def mode(self) -> str:
        """Subscription mode as kiteconnect reports it: "ltp", "quote" or "full"."""
        return _MODE[self.kind]

    @property
    def change(self) -> float | None:
        """Percent change of last price vs close, as kiteconnect computes it.

        None for LTP packets (kiteconnect reports no change there); 0 when close is 0.
        """
        if self.kind is PacketKind.LTP or self.close is None:
            return None
        if self.close == 0:
            return 0.0
        return (self.last_price - self.close) * 100 / self.close

    def exchange_datetime(self) -> datetime | None:
        """Exchange timestamp as a tz-aware Asia/Kolkata datetime (None if absent)."""
        return _local_datetime(self.exchange_timestamp, IST)

    def last_trade_datetime(self) -> datetime | None:
        """Last trade time as a tz-aware Asia/Kolkata datetime (None if absent)."""
        return _local_datetime(self.last_trade_time, IST)

    def to_kite_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """Return the dict kiteconnect's ``_parse_binary`` gives for this packet.

        Args:
            tz: Passed to ``datetime.fromtimestamp``; None gives naive local time,
                exactly like kiteconnect.

        Returns:
            A dict equal to kiteconnect's (same keys, nesting and values).
        """
        d: dict[str, Any] = {
            "tradable": self.tradable,
            "mode": self.mode,
            "instrument_token": self.instrument_token,
            "last_price": self.last_price,
        }
        kind = self.kind
        if kind is PacketKind.LTP:
            return d
        if kind in (PacketKind.INDEX_QUOTE, PacketKind.INDEX_FULL):
            d["ohlc"] = {"high": self.high, "low": self.low, "open": self.open,
                         "close": self.close}
            d["change"] = 0 if self.close == 0 else self.change
            if kind is PacketKind.INDEX_FULL:
                d["exchange_timestamp"] = _local_datetime(self.exchange_timestamp, tz)
            return d
        d["last_traded_quantity"] = self.last_traded_quantity
        d["average_traded_price"] = self.average_traded_price
        d["volume_traded"] = self.volume_traded
        d["total_buy_quantity"] = self.total_buy_quantity
        d["total_sell_quantity"] = self.total_sell_quantity
        d["ohlc"] = {"open": self.open, "high": self.high, "low": self.low, "close": self.close}
        d["change"] = 0 if self.close == 0 else self.change
        if kind is PacketKind.FULL:
            d["last_trade_time"] = _local_datetime(self.last_trade_time, tz)
            d["oi"] = self.oi
            d["oi_day_high"] = self.oi_day_high
            d["oi_day_low"] = self.oi_day_low
            d["exchange_timestamp"] = _local_datetime(self.exchange_timestamp, tz)
            d["depth"] = {
                "buy": [{"quantity": lv.quantity, "price": lv.price, "orders": lv.orders}
                        for lv in self.depth_buy],
                "sell": [{"quantity": lv.quantity, "price": lv.price, "orders": lv.orders}
                         for lv in self.depth_sell],
            }
        return d


def _depth(values: tuple[int, ...], start: int, div: float) -> tuple[DepthLevel, ...]:
    """Build 5 depth levels from the flat (qty, price, orders) triples at ``start``."""
    return tuple(
        DepthLevel(values[i], values[i + 1] / div, values[i + 2])
        for i in range(start, start + 3 * _DEPTH_LEVELS, 3)
    )


def decode_packet(packet: bytes) -> Tick:
    """Decode one Kite packet.

    Args:
        packet: The packet bytes (no length prefix).

    Returns:
        The decoded tick.

    Raises:
        CodecError: If the length is not one of the known packet lengths.
    """
    kind = _KIND_BY_LENGTH.get(len(packet))
    if kind is None:
        raise CodecError(
            f"unknown packet length {len(packet)} (expected one of "
            f"{sorted(_KIND_BY_LENGTH)})"
        )
    if kind is PacketKind.LTP:
        token, ltp = _LTP.unpack(packet)
        return Tick(token, kind, ltp / price_divisor(token))
    if kind is PacketKind.QUOTE or kind is PacketKind.FULL:
        v = _FULL.unpack(packet) if kind is PacketKind.FULL else _QUOTE.unpack(packet)
        token = v[0]
        div = price_divisor(token)
        if kind is PacketKind.QUOTE:
            return Tick(token, kind, v[1] / div, v[2], v[3] / div, v[4], v[5], v[6],
                        v[7] / div, v[8] / div, v[9] / div, v[10] / div)
        return Tick(token, kind, v[1] / div, v[2], v[3] / div, v[4], v[5], v[6],
                    v[7] / div, v[8] / div, v[9] / div, v[10] / div,
                    last_trade_time=v[11], oi=v[12], oi_day_high=v[13], oi_day_low=v[14],
                    exchange_timestamp=v[15], depth_buy=_depth(v, 16, div),
                    depth_sell=_depth(v, 16 + 3 * _DEPTH_LEVELS, div))
    # Index packets: note the high, low, open, close order.
    if kind is PacketKind.INDEX_FULL:
        v = _INDEX_FULL.unpack(packet)
        ts: int | None = v[7]
    else:
        v = _INDEX_QUOTE.unpack(packet)
        ts = None
    token = v[0]
    div = price_divisor(token)
    return Tick(token, kind, v[1] / div, open=v[4] / div, high=v[2] / div, low=v[3] / div,
                close=v[5] / div, exchange_timestamp=ts, net_change_raw=v[6])


def _price_int(value: float | None, name: str, token: int, div: float) -> int:
    """Scale a price back to its wire integer, checking it fits in u32."""
    if value is None:
        raise CodecError(f"token {token}: required field {name!r} is missing")
    try:
        scaled = value * div
    except TypeError:
        raise CodecError(f"token {token}: {name}={value!r} is not a number") from None
    if not math.isfinite(scaled):
        raise CodecError(f"token {token}: {name}={value!r} is not a finite price")
    raw = round(scaled)
    if not 0 <= raw <= _U32_MAX:
        raise CodecError(f"token {token}: {name}={value!r} scales to {raw}, outside u32")
    return raw


def _uint(value: int | None, name: str, token: int, maximum: int = _U32_MAX) -> int:
    """Check a required unsigned integer field fits its wire width."""
    if value is None:
        raise CodecError(f"token {token}: required field {name!r} is missing")
    if not isinstance(value, int):
        raise CodecError(f"token {token}: {name}={value!r} is not an integer")
    if not 0 <= value <= maximum:
        raise CodecError(f"token {token}: {name}={value!r} outside 0..{maximum}")
    return value


def _depth_ints(levels: tuple[DepthLevel, ...], side: str, token: int,
                div: float) -> list[int]:
    """Flatten up to 5 depth levels into wire integers; missing levels are zeros."""
    if len(levels) > _DEPTH_LEVELS:
        raise CodecError(f"token {token}: {len(levels)} {side} depth levels (max 5)")
    out: list[int] = []
    for i, lv in enumerate(levels):
        out += (
            _uint(lv.quantity, f"depth_{side}[{i}].quantity", token),
            _price_int(lv.price, f"depth_{side}[{i}].price", token, div),
            _uint(lv.orders, f"depth_{side}[{i}].orders", token, _U16_MAX),
        )
    out += [0] * (3 * (_DEPTH_LEVELS - len(levels)))
    return out


def encode_packet(tick: Tick) -> bytes:
    """Encode a tick back into its Kite packet.

    Fields that the tick's kind does not carry are ignored. FULL ticks may carry fewer
    than 5 depth levels per side; the rest are written as zeros (as Kite sends them).

    Args:
        tick: The tick to encode.

    Returns:
        The packet bytes, ``tick.kind`` long.

    Raises:
        CodecError: If a required field is missing or a value does not fit its field.
    """
    token = tick.instrument_token
    _uint(token, "instrument_token", token)
    div = price_divisor(token)
    try:
        kind = PacketKind(tick.kind)
    except ValueError:
        raise CodecError(f"token {token}: unknown packet kind {tick.kind!r}") from None
    ltp = _price_int(tick.last_price, "last_price", token, div)
    if kind is PacketKind.LTP:
        return _LTP.pack(token, ltp)
    if kind in (PacketKind.INDEX_QUOTE, PacketKind.INDEX_FULL):
        vals = [token, ltp,
                _price_int(tick.high, "high", token, div),
                _price_int(tick.low, "low", token, div),
                _price_int(tick.open, "open", token, div),
                _price_int(tick.close, "close", token, div),
                _uint(tick.net_change_raw or 0, "net_change_raw", token)]
        if kind is PacketKind.INDEX_QUOTE:
            return _INDEX_QUOTE.pack(*vals)
        vals.append(_uint(tick.exchange_timestamp, "exchange_timestamp", token))
        return _INDEX_FULL.pack(*vals)
    vals = [token, ltp,
            _uint(tick.last_traded_quantity, "last_traded_quantity", token),
            _price_int(tick.average_traded_price, "average_traded_price", token, div),
            _uint(tick.volume_traded, "volume_traded", token),
            _uint(tick.total_buy_quantity, "total_buy_quantity", token),
            _uint(tick.total_sell_quantity, "total_sell_quantity", token),
            _price_int(tick.open, "open", token, div),
            _price_int(tick.high, "high", token, div),
            _price_int(tick.low, "low", token, div),
            _price_int(tick.close, "close", token, div)]
    if kind is PacketKind.QUOTE:
        return _QUOTE.pack(*vals)
    vals += (_uint(tick.last_trade_time, "last_trade_time", token),
             _uint(tick.oi, "oi", token),
             _uint(tick.oi_day_high, "oi_day_high", token),
             _uint(tick.oi_day_low, "oi_day_low", token),
             _uint(tick.exchange_timestamp, "exchange_timestamp", token))
    vals += _depth_ints(tick.depth_buy, "buy", token, div)
    vals += _depth_ints(tick.depth_sell, "sell", token, div)
    return _FULL.pack(*vals)


def read_frame(
    buf: bytes | bytearray | memoryview, offset: int = 0, *, allow_empty: bool = False
) -> tuple[list[bytes], int]:
    """Read one Kite frame starting at ``offset``, leaving whatever follows it alone.

    Building block for :func:`split_frame` and for containers that embed a frame
    (see ``aion.streams.bundle``). No heartbeat rule here: the count must be present.

    Args:
        buf: Buffer holding the frame.
        offset: Byte offset of the frame's u16 packet count.
        allow_empty: Accept zero-length packets (returned as ``b""``) instead of raising.

    Returns:
        The packets (as bytes, unvalidated beyond their framing) and the offset just
        past the frame.

    Raises:
        CodecError: If the frame is truncated or holds a zero-length packet (unless
            ``allow_empty``).
    """
    size = len(buf)
    if offset + 2 > size:
        raise CodecError(f"truncated frame: no packet count at byte {offset}")
    (count,) = _U16.unpack_from(buf, offset)
    pos = offset + 2
    packets: list[bytes] = []
    mv = memoryview(buf)
    unpack_from = _U16.unpack_from
    for i in range(count):
        if pos + 2 > size:
            raise CodecError(
                f"truncated frame: packet {i} of {count} has no length at byte {pos}"
            )
        (length,) = unpack_from(buf, pos)
        pos += 2
        if length == 0 and not allow_empty:
            raise CodecError(f"zero-length packet {i} of {count} at byte {pos - 2}")
        end = pos + length
        if end > size:
            raise CodecError(
                f"truncated frame: packet {i} of {count} at byte {pos} claims {length} "
                f"bytes, {size - pos} left"
            )
        packets.append(bytes(mv[pos:end]))
        pos = end
    return packets, pos


def split_frame(message: bytes, *, allow_empty: bool = False) -> list[bytes]:
    """Split a Kite WebSocket message into its packets (like ``_split_packets``).

    Args:
        message: The whole binary message.
        allow_empty: Accept zero-length packets (as ``b""``) instead of raising.

    Returns:
        The packets in order; ``[]`` for a heartbeat (message shorter than 2 bytes).

    Raises:
        CodecError: On truncation, trailing bytes, or a zero-length packet.
    """
    if len(message) < 2:
        return []
    packets, end = read_frame(message, 0, allow_empty=allow_empty)
    if end != len(message):
        raise CodecError(
            f"{len(message) - end} trailing bytes after {len(packets)} packets at byte {end}"
        )
    return packets


def join_frame(packets: Sequence[bytes], *, allow_empty: bool = False) -> bytes:
    """Frame packets into one Kite message (inverse of :func:`split_frame`).

    Args:
        packets: Packet bytes, in order.
        allow_empty: Accept zero-length packets instead of raising.

    Returns:
        ``u16 count`` then ``u16 length + bytes`` per packet.

    Raises:
        CodecError: If there are more than 65535 packets, a packet is longer than
            65535 bytes, or a packet is empty (unless ``allow_empty``).
    """
    if len(packets) > FRAME_MAX_PACKETS:
        raise CodecError(f"{len(packets)} packets exceed the frame maximum of 65535")
    parts = [_U16.pack(len(packets))]
    pack = _U16.pack
    for i, p in enumerate(packets):
        n = len(p)
        if n > _U16_MAX:
            raise CodecError(f"packet {i} is {n} bytes, more than a u16 length allows")
        if n == 0 and not allow_empty:
            raise CodecError(f"packet {i} is empty")
        parts.append(pack(n))
        parts.append(p)
    return b"".join(parts)


def decode_frame(message: bytes) -> list[Tick]:
    """Decode a whole Kite WebSocket message.

    Args:
        message: The binary message.

    Returns:
        One tick per packet, in order; ``[]`` for a heartbeat.

    Raises:
        CodecError: On any framing error or any packet of unknown length (the error
            names the packet index).
    """
    out: list[Tick] = []
    for i, p in enumerate(split_frame(message)):
        try:
            out.append(decode_packet(p))
        except CodecError as exc:
            raise CodecError(f"packet {i}: {exc}") from None
    return out


def encode_frame(ticks: Iterable[Tick]) -> bytes:
    """Encode ticks into one Kite WebSocket message.

    Args:
        ticks: Ticks to encode, in order.

    Returns:
        The framed message.

    Raises:
        CodecError: If a tick cannot be encoded or there are too many packets.
    """
    return join_frame([encode_packet(t) for t in ticks])
