"""Vectorised (numpy) decoder for many Kite packets at once: the hot path.

Packets are grouped by length (= kind), each group is laid out contiguously in one
buffer and viewed through a big-endian structured dtype (``np.frombuffer``), and whole
columns are converted at once. Per-packet Python work is limited to measuring lengths
and joining bytes; for a frame whose packets all share one length
(:func:`read_frame_batch`) there is none at all.

Values equal :func:`aion.streams.codec.decode_packet`'s field for field (prices are
``raw / divisor`` in float64, exactly what the single decoder and kiteconnect compute).
Malformed packets never raise here: their row has ``error != 0`` (see
:data:`ERROR_REASONS`), ``kind == 0``, and ``token`` when the packet has 4 bytes or more,
so callers can route them to the dead-letter topic and carry on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from aion.streams.codec import CodecError, PacketKind, price_divisor, read_frame

__all__ = [
    "ERROR_EMPTY",
    "ERROR_REASONS",
    "ERROR_SHORT",
    "ERROR_UNKNOWN_LENGTH",
    "TICK_DTYPE",
    "decode_frame_batch",
    "decode_packets",
    "read_frame_batch",
]

TICK_DTYPE = np.dtype(
    [
        ("token", "u4"),
        ("kind", "u2"),  # packet length (a PacketKind value); 0 on error rows
        ("error", "u1"),  # 0 = ok, else a key of ERROR_REASONS
        ("last_price", "f8"),
        ("last_qty", "u4"),
        ("avg_price", "f8"),
        ("volume", "u4"),
        ("buy_qty", "u4"),
        ("sell_qty", "u4"),
        ("open", "f8"),
        ("high", "f8"),
        ("low", "f8"),
        ("close", "f8"),
        ("last_trade_time", "i8"),
        ("oi", "u4"),
        ("oi_high", "u4"),
        ("oi_low", "u4"),
        ("exchange_ts", "i8"),  # epoch seconds; 0 when the packet has none
        ("bid_price", "f8"),
        ("bid_qty", "u4"),
        ("ask_price", "f8"),
        ("ask_qty", "u4"),
    ]
)

ERROR_EMPTY = 1
ERROR_SHORT = 2
ERROR_UNKNOWN_LENGTH = 3
ERROR_REASONS: dict[int, str] = {
    ERROR_EMPTY: "zero-length packet",
    ERROR_SHORT: "packet shorter than an instrument token (1-3 bytes)",
    ERROR_UNKNOWN_LENGTH: "unknown packet length (not 8, 28, 32, 44 or 184)",
}

# Wire offsets per kind: output column -> byte offset of its big-endian u32.
_LAYOUT: dict[PacketKind, dict[str, int]] = {
    PacketKind.LTP: {"token": 0, "last_price": 4},
    PacketKind.INDEX_QUOTE: {
        "token": 0, "last_price": 4, "high": 8, "low": 12, "open": 16, "close": 20,
    },
    PacketKind.INDEX_FULL: {
        "token": 0, "last_price": 4, "high": 8, "low": 12, "open": 16, "close": 20,
        "exchange_ts": 28,
    },
    PacketKind.QUOTE: {
        "token": 0, "last_price": 4, "last_qty": 8, "avg_price": 12, "volume": 16,
        "buy_qty": 20, "sell_qty": 24, "open": 28, "high": 32, "low": 36, "close": 40,
    },
    PacketKind.FULL: {
        "token": 0, "last_price": 4, "last_qty": 8, "avg_price": 12, "volume": 16,
        "buy_qty": 20, "sell_qty": 24, "open": 28, "high": 32, "low": 36, "close": 40,
        "last_trade_time": 44, "oi": 48, "oi_high": 52, "oi_low": 56, "exchange_ts": 60,
        # Best bid is depth level 0 (offset 64), best ask is level 5 (64 + 5 * 12).
        "bid_qty": 64, "bid_price": 68, "ask_qty": 124, "ask_price": 128,
    },
}
_PRICE_COLUMNS = frozenset(
    {"last_price", "avg_price", "open", "high", "low", "close", "bid_price", "ask_price"}
)
_KIND_LENGTHS = np.array(sorted(int(k) for k in PacketKind), dtype=np.int64)
_KIND_LENGTH_SET = frozenset(int(k) for k in PacketKind)

# Lookup table segment -> divisor, built from codec.price_divisor so the rule stays in
# one place.
_DIVISOR_LUT = np.array([price_divisor(seg) for seg in range(256)], dtype=np.float64)

_raw_dtype_cache: dict[tuple[PacketKind, int, int], np.dtype] = {}


def _raw_dtype(kind: PacketKind, itemsize: int, base: int) -> np.dtype:
    """Big-endian view dtype of one packet of ``kind`` inside records of ``itemsize``.

    Args:
        kind: Packet kind.
        itemsize: Distance between consecutive packets (packet length, or +2 when the
            packets still carry their u16 length prefix).
        base: Offset of the packet inside each record (2 to skip a length prefix).

    Returns:
        A structured dtype exposing only the columns we use.
    """
    key = (kind, itemsize, base)
    dt = _raw_dtype_cache.get(key)
    if dt is None:
        layout = _LAYOUT[kind]
        dt = np.dtype(
            {
                "names": list(layout),
                "formats": [">u4"] * len(layout),
                "offsets": [base + off for off in layout.values()],
                "itemsize": itemsize,
            }
        )
        _raw_dtype_cache[key] = dt
    return dt


def _fill(dst: np.ndarray, raw: np.ndarray, kind: PacketKind) -> None:
    """Convert a group of same-kind raw packets into TICK_DTYPE rows (in place)."""
    token = raw["token"].astype(np.uint32)
    div = _DIVISOR_LUT[token & 0xFF]
    dst["token"] = token
    dst["kind"] = int(kind)
    for name in _LAYOUT[kind]:
        if name == "token":
            continue
        if name in _PRICE_COLUMNS:
            # u32 -> f8 is exact, and IEEE division matches Python's int / float.
            dst[name] = raw[name] / div
        else:
            dst[name] = raw[name]


def decode_packets(packets: Sequence[bytes]) -> np.ndarray:
    """Decode many packets into TICK_DTYPE rows, one per packet, in the same order.

    Args:
        packets: Raw Kite packets (no length prefixes); any bytes-like objects.

    Returns:
        A TICK_DTYPE array of ``len(packets)`` rows. Malformed packets give rows with
        ``error != 0`` (never an exception).
    """
    n = len(packets)
    out = np.zeros(n, dtype=TICK_DTYPE)
    if n == 0:
        return out
    lengths = np.fromiter(map(len, packets), dtype=np.int64, count=n)
    # Sort by length so each kind is one contiguous run of the joined buffer; a batch
    # that is already sorted (typically: all one kind) skips the permutation.
    in_order = bool(np.all(lengths[:-1] <= lengths[1:]))
    if in_order:
        order = None
        sorted_lengths = lengths
        buf = b"".join(packets)
        target = out
    else:
        order = np.argsort(lengths, kind="stable")
        sorted_lengths = lengths[order]
        buf = b"".join([packets[i] for i in order.tolist()])
        target = np.zeros(n, dtype=TICK_DTYPE)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sorted_lengths, out=starts[1:])

    for kind in PacketKind:
        lo = int(np.searchsorted(sorted_lengths, int(kind), side="left"))
        hi = int(np.searchsorted(sorted_lengths, int(kind), side="right"))
        if hi > lo:
            raw = np.frombuffer(
                buf, dtype=_raw_dtype(kind, int(kind), 0), count=hi - lo, offset=int(starts[lo])
            )
            _fill(target[lo:hi], raw, kind)

    bad = np.flatnonzero(~np.isin(sorted_lengths, _KIND_LENGTHS))
    if bad.size:
        _mark_errors(target, bad, sorted_lengths, starts, buf)
    if order is not None:
        out[order] = target
    return out


def _mark_errors(
    rows: np.ndarray, bad: np.ndarray, lengths: np.ndarray, starts: np.ndarray, buf: bytes
) -> None:
    """Fill error rows (rare, so a Python loop is fine)."""
    for j in bad.tolist():
        length = int(lengths[j])
        if length == 0:
            rows["error"][j] = ERROR_EMPTY
            continue
        if length < 4:
            rows["error"][j] = ERROR_SHORT
            continue
        rows["error"][j] = ERROR_UNKNOWN_LENGTH
        start = int(starts[j])
        rows["token"][j] = int.from_bytes(buf[start : start + 4], "big")


def read_frame_batch(
    buf: bytes | bytearray | memoryview, offset: int = 0
) -> tuple[np.ndarray, int]:
    """Decode one Kite frame starting at ``offset`` into TICK_DTYPE rows.

    Zero-length and unknown-length packets become error rows; only framing problems
    raise. When every packet has the same known length the frame is decoded in place,
    straight from ``buf``, with no per-packet Python work.

    Args:
        buf: Buffer holding the frame (u16 count, then u16 length + bytes per packet).
        offset: Byte offset of the frame's packet count.

    Returns:
        The rows, and the offset just past the frame.

    Raises:
        CodecError: If the frame is truncated.
    """
    size = len(buf)
    if offset + 2 > size:
        raise CodecError(f"truncated frame: no packet count at byte {offset}")
    count = int.from_bytes(buf[offset : offset + 2], "big")
    if count == 0:
        return np.zeros(0, dtype=TICK_DTYPE), offset + 2
    if offset + 4 <= size:
        length = int.from_bytes(buf[offset + 2 : offset + 4], "big")
        end = offset + 2 + count * (2 + length)
        if length in _KIND_LENGTH_SET and end <= size:
            stride = 2 + length
            prefixes = np.frombuffer(
                buf, dtype=np.dtype({"names": ["n"], "formats": [">u2"], "offsets": [0],
                                     "itemsize": stride}),
                count=count, offset=offset + 2,
            )["n"]
            if bool(np.all(prefixes == length)):
                kind = PacketKind(length)
                raw = np.frombuffer(
                    buf, dtype=_raw_dtype(kind, stride, 2), count=count, offset=offset + 2
                )
                rows = np.zeros(count, dtype=TICK_DTYPE)
                _fill(rows, raw, kind)
                return rows, end
    packets, end = read_frame(buf, offset, allow_empty=True)
    return decode_packets(packets), end


def decode_frame_batch(message: bytes) -> np.ndarray:
    """Decode a whole Kite WebSocket message into TICK_DTYPE rows.

    Unlike :func:`aion.streams.codec.decode_frame`, bad packets (zero-length, unknown
    length) become error rows instead of raising.

    Args:
        message: The binary message.

    Returns:
        One row per packet; empty for a heartbeat (message shorter than 2 bytes).

    Raises:
        CodecError: If the frame is truncated or followed by trailing bytes.
    """
    if len(message) < 2:
        return np.zeros(0, dtype=TICK_DTYPE)
    rows, end = read_frame_batch(message, 0)
    if end != len(message):
        raise CodecError(
            f"{len(message) - end} trailing bytes after {len(rows)} packets at byte {end}"
        )
    return rows
