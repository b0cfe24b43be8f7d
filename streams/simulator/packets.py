"""Vectorised encoding of Kite full-mode packets, for the simulator's hot loop.

:func:`aion.streams.codec.encode_packet` is the reference encoder; building a ``Tick``
per packet costs ~10 µs, which caps the simulator well below its 100k packets/s goal.
The functions here write the same bytes for whole arrays at once through numpy
structured dtypes (``tests/streams/test_simulator.py`` checks them byte for byte
against ``encode_packet``). All prices are integer wire units (paise for NSE/NFO).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aion.streams.codec import PacketKind

__all__ = [
    "FULL_DTYPE",
    "INDEX_FULL_DTYPE",
    "encode_full_packets",
    "encode_index_packets",
    "to_binary_array",
]

_U4 = ">u4"
_DEPTH_DTYPE = np.dtype([("quantity", _U4), ("price", _U4), ("orders", ">u2"), ("pad", ">u2")])

FULL_DTYPE = np.dtype(
    [
        ("instrument_token", _U4),
        ("last_price", _U4),
        ("last_traded_quantity", _U4),
        ("average_traded_price", _U4),
        ("volume_traded", _U4),
        ("total_buy_quantity", _U4),
        ("total_sell_quantity", _U4),
        ("open", _U4),
        ("high", _U4),
        ("low", _U4),
        ("close", _U4),
        ("last_trade_time", _U4),
        ("oi", _U4),
        ("oi_day_high", _U4),
        ("oi_day_low", _U4),
        ("exchange_timestamp", _U4),
        ("depth", _DEPTH_DTYPE, (10,)),
    ]
)
"""Layout of a 184-byte full packet (big-endian); depth is 5 buy then 5 sell levels."""

INDEX_FULL_DTYPE = np.dtype(
    [
        ("instrument_token", _U4),
        ("last_price", _U4),
        ("high", _U4),
        ("low", _U4),
        ("open", _U4),
        ("close", _U4),
        ("net_change", _U4),
        ("exchange_timestamp", _U4),
    ]
)
"""Layout of a 32-byte index full packet (note Kite's high, low, open, close order)."""

assert FULL_DTYPE.itemsize == PacketKind.FULL
assert INDEX_FULL_DTYPE.itemsize == PacketKind.INDEX_FULL

_U32_MAX = 0xFFFFFFFF


def _check_u32(name: str, values: np.ndarray) -> None:
    """Refuse values the wire cannot carry instead of silently wrapping them."""
    if values.size and (values.min() < 0 or values.max() > _U32_MAX):
        raise ValueError(f"{name} outside the u32 range")


def encode_full_packets(
    fields: dict[str, np.ndarray],
    depth_quantity: np.ndarray,
    depth_price: np.ndarray,
    depth_orders: np.ndarray,
) -> np.ndarray:
    """Encode full-mode (184-byte) packets.

    Args:
        fields: One integer array per scalar field of :data:`FULL_DTYPE` (all but
            ``depth``), each of length n, prices in wire units.
        depth_quantity: ``(n, 10)`` quantities, buy levels 0-4 then sell levels 0-4.
        depth_price: ``(n, 10)`` prices in wire units.
        depth_orders: ``(n, 10)`` order counts (u16).

    Returns:
        ``(n, 184)`` ``uint8`` array, row i being packet i's bytes.

    Raises:
        ValueError: If a field is missing or a value does not fit its wire width.
    """
    n = len(fields["instrument_token"])
    rec = np.zeros(n, dtype=FULL_DTYPE)
    for name in FULL_DTYPE.names or ():
        if name == "depth":
            continue
        values = np.asarray(fields[name])
        _check_u32(name, values)
        rec[name] = values
    _check_u32("depth quantity", depth_quantity)
    _check_u32("depth price", depth_price)
    if depth_orders.size and (depth_orders.min() < 0 or depth_orders.max() > 0xFFFF):
        raise ValueError("depth orders outside the u16 range")
    rec["depth"]["quantity"] = depth_quantity
    rec["depth"]["price"] = depth_price
    rec["depth"]["orders"] = depth_orders
    return rec.view(np.uint8).reshape(n, FULL_DTYPE.itemsize)


def encode_index_packets(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Encode index full-mode (32-byte) packets.

    Args:
        fields: One integer array per field of :data:`INDEX_FULL_DTYPE`, length n.
            ``net_change`` is written as-is (the raw u32 of bytes 24-28).

    Returns:
        ``(n, 32)`` ``uint8`` array.

    Raises:
        ValueError: If a value does not fit in u32.
    """
    n = len(fields["instrument_token"])
    rec = np.zeros(n, dtype=INDEX_FULL_DTYPE)
    for name in INDEX_FULL_DTYPE.names or ():
        values = np.asarray(fields[name])
        _check_u32(name, values)
        rec[name] = values
    return rec.view(np.uint8).reshape(n, INDEX_FULL_DTYPE.itemsize)


def to_binary_array(padded: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Build an Arrow binary array from left-aligned packets in a padded byte matrix.

    Args:
        padded: ``(n, width)`` ``uint8``; row i holds packet i in its first
            ``lengths[i]`` bytes.
        lengths: Packet lengths.

    Returns:
        A ``pa.binary()`` array of n packets (no per-packet Python objects).
    """
    n, width = padded.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    if np.all(lengths == width):
        data = np.ascontiguousarray(padded).reshape(-1)
    else:
        mask = np.arange(width)[None, :] < lengths[:, None]
        data = padded[mask]
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
