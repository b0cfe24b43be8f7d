"""Vectorised (numpy) decoder for many Kite packets at once: the hot path.

Packets are grouped by length (= kind), each group is laid out contiguously in one
buffer and viewed as a 2-D big-endian u32 array (zero copy), whole columns are gathered
into a float64 matrix at once, and the matrix is cast to :data:`TICK_DTYPE` in one call.
Per-packet Python work is limited to measuring lengths and joining bytes; for a frame
whose packets all share one length (:func:`read_frame_batch`) there is none at all.

Values equal :func:`aion.streams.codec.decode_packet`'s field for field (prices are
``raw / divisor`` in float64, exactly what the single decoder and kiteconnect compute).
Malformed packets never raise here: their row has ``error != 0`` (see
:data:`ERROR_REASONS`), ``kind == 0``, and ``token`` when the packet has 4 bytes or more,
so callers can route them to the dead-letter topic and carry on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def field_offset(kind: int, column: str) -> int:
    """Byte offset of a column's big-endian u32 in a packet of a kind (its length).

    Args:
        kind: Packet length (8, 28, 32, 44 or 184).
        column: A ``TICK_DTYPE`` column carried by that kind.

    Returns:
        The offset.

    Raises:
        KeyError: If the kind does not carry the column.
    """
    return _LAYOUT[PacketKind(kind)][column]


_PRICE_COLUMNS = frozenset(
    {"last_price", "avg_price", "open", "high", "low", "close", "bid_price", "ask_price"}
)
_KIND_LENGTHS = np.array(sorted(int(k) for k in PacketKind), dtype=np.int64)
_KIND_LENGTH_SET = frozenset(int(k) for k in PacketKind)
# Valid-length lookup; lengths above the longest kind are capped onto the last (False) slot.
_VALID_LENGTH = np.zeros(int(_KIND_LENGTHS.max()) + 2, dtype=bool)
_VALID_LENGTH[_KIND_LENGTHS] = True

# Lookup table segment -> divisor, built from codec.price_divisor so the rule stays in
# one place.
_DIVISOR_LUT = np.array([price_divisor(seg) for seg in range(256)], dtype=np.float64)

# Rows are assembled in a float64 matrix (one column per TICK_DTYPE field) and cast to
# TICK_DTYPE in one C-level call: far fewer numpy calls than filling field by field,
# which matters for the small bundles of live trading. Every value is exact in float64
# (u32 integers; prices are computed in float64 anyway).
_COL = {name: i for i, name in enumerate(TICK_DTYPE.names)}
_NCOLS = len(_COL)
_F8_ROW = np.dtype([(name, "f8") for name in TICK_DTYPE.names])


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one packet kind maps onto the row matrix."""

    src: np.ndarray  # u32 word index in the packet, per copied column (token first)
    dst: np.ndarray  # matrix column, per copied column
    prices: np.ndarray  # matrix columns to divide by the price divisor


def _make_plan(kind: PacketKind) -> _Plan:
    """Build the column plan of one packet kind from ``_LAYOUT``."""
    layout = _LAYOUT[kind]
    return _Plan(
        src=np.array([off // 4 for off in layout.values()], dtype=np.intp),
        dst=np.array([_COL[name] for name in layout], dtype=np.intp),
        prices=np.array(
            [_COL[name] for name in layout if name in _PRICE_COLUMNS], dtype=np.intp
        ),
    )


_PLANS = {kind: _make_plan(kind) for kind in PacketKind}


def _words(
    buf: bytes | bytearray | memoryview, offset: int, count: int, kind: PacketKind, stride: int
) -> np.ndarray:
    """Zero-copy (count, length / 4) big-endian u32 view of ``count`` packets of ``kind``.

    Args:
        buf: Buffer holding the packets.
        offset: Byte offset of the first packet.
        count: Number of packets.
        kind: Their kind (every kind is a whole number of u32 words).
        stride: Bytes from one packet to the next (length, or length + 2 with prefixes).

    Returns:
        A 2-D view into ``buf``.
    """
    return np.ndarray(
        shape=(count, int(kind) // 4), dtype=">u4", buffer=buf, offset=offset,
        strides=(stride, 4),
    )


def _fill(mat: np.ndarray, words: np.ndarray, kind: PacketKind) -> None:
    """Convert same-kind packets (a u32 word view) into rows of the float64 matrix."""
    plan = _PLANS[kind]
    block = words[:, plan.src]
    mat[:, plan.dst] = block
    div = _DIVISOR_LUT[block[:, 0] & 0xFF]
    # u32 -> f8 is exact, and IEEE division matches Python's int / float.
    mat[:, plan.prices] /= div[:, None]
    mat[:, _COL["kind"]] = int(kind)


def _to_rows(mat: np.ndarray) -> np.ndarray:
    """Cast the C-contiguous (n, fields) float64 matrix into TICK_DTYPE rows."""
    return mat.view(_F8_ROW).reshape(-1).astype(TICK_DTYPE)


def decode_packets(packets: Sequence[bytes]) -> np.ndarray:
    """Decode many packets into TICK_DTYPE rows, one per packet, in the same order.

    Args:
        packets: Raw Kite packets (no length prefixes); any bytes-like objects.

    Returns:
        A TICK_DTYPE array of ``len(packets)`` rows. Malformed packets give rows with
        ``error != 0`` (never an exception).
    """
    n = len(packets)
    if n == 0:
        return np.zeros(0, dtype=TICK_DTYPE)
    lengths = np.fromiter(map(len, packets), dtype=np.int64, count=n)
    # Sort by length so each kind is one contiguous run of the joined buffer; a batch
    # that is already sorted (typically: all one kind) skips the permutation.
    if bool(np.all(lengths[:-1] <= lengths[1:])):
        order = None
        sorted_lengths = lengths
        buf = b"".join(packets)
    else:
        order = np.argsort(lengths, kind="stable")
        sorted_lengths = lengths[order]
        buf = b"".join([packets[i] for i in order.tolist()])
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sorted_lengths, out=starts[1:])

    mat = np.zeros((n, _NCOLS), dtype=np.float64)
    los = np.searchsorted(sorted_lengths, _KIND_LENGTHS, side="left").tolist()
    his = np.searchsorted(sorted_lengths, _KIND_LENGTHS, side="right").tolist()
    covered = 0
    for length, lo, hi in zip(_KIND_LENGTHS.tolist(), los, his, strict=True):
        if hi > lo:
            kind = PacketKind(length)
            _fill(mat[lo:hi], _words(buf, int(starts[lo]), hi - lo, kind, length), kind)
            covered += hi - lo
    if covered < n:
        capped = np.minimum(sorted_lengths, len(_VALID_LENGTH) - 1)
        _mark_errors(mat, np.flatnonzero(~_VALID_LENGTH[capped]), sorted_lengths, starts, buf)
    if order is not None:
        unsorted = np.empty_like(mat)
        unsorted[order] = mat
        mat = unsorted
    return _to_rows(mat)


def _mark_errors(
    mat: np.ndarray, bad: np.ndarray, lengths: np.ndarray, starts: np.ndarray, buf: bytes
) -> None:
    """Fill error rows (rare, so a Python loop is fine)."""
    for j in bad.tolist():
        length = int(lengths[j])
        if length == 0:
            mat[j, _COL["error"]] = ERROR_EMPTY
        elif length < 4:
            mat[j, _COL["error"]] = ERROR_SHORT
        else:
            mat[j, _COL["error"]] = ERROR_UNKNOWN_LENGTH
            start = int(starts[j])
            mat[j, _COL["token"]] = int.from_bytes(buf[start : start + 4], "big")


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
        stride = 2 + length
        end = offset + 2 + count * stride
        if length in _KIND_LENGTH_SET and end <= size:
            prefixes = np.ndarray(
                shape=(count,), dtype=">u2", buffer=buf, offset=offset + 2, strides=(stride,)
            )
            if bool(np.all(prefixes == length)):
                kind = PacketKind(length)
                mat = np.zeros((count, _NCOLS), dtype=np.float64)
                _fill(mat, _words(buf, offset + 4, count, kind, stride), kind)
                return _to_rows(mat), end
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
