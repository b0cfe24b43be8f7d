r"""Bundle framing for topic ``aion.ticks.raw``, and the token-to-partition rule.

A bundle is the value of one ``aion.ticks.raw`` message: one or more raw Kite packets of
instruments that share a partition, in arrival order, each with its receive time.

Format, byte by byte (all integers big-endian)::

    offset  size        field
    0       2           magic b"AB"
    2       1           u8 version = 1
    3       2           u16 N = packet count (0..65535)
    5       ...         N times: u16 length L_i, then L_i bytes of the raw Kite packet
    F       8 * N       N times: int64 receive time in ns since the Unix epoch (UTC),
                        in packet order

Bytes 3..F are exactly a Kite WebSocket frame (``codec.join_frame``), so the packets
travel unmodified. The total size is ``F + 8 * N``; nothing may follow. A bundle of zero
packets (5 bytes: ``b"AB\x01\x00\x00"``) is legal and serves as an end-of-stream /
watermark marker. A zero-length packet is carried as is (it decodes to an error row,
which goes to the dead-letter topic); a truncated frame is a :class:`BundleError`.

Partitioning: every producer (live client, recorded-session replay, simulator) MUST
pick the partition with :func:`partition_for_token` / :func:`partitions_for_tokens`, so
one instrument's packets always land in one partition, in order, and the Faust tables
co-partitioned with this topic hold that instrument's state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aion.streams.batch import read_frame_batch
from aion.streams.codec import FRAME_MAX_PACKETS, CodecError, join_frame, read_frame

__all__ = [
    "BUNDLE_HEADER_SIZE",
    "BUNDLE_MAGIC",
    "BUNDLE_VERSION",
    "BundleError",
    "decode_bundle",
    "decode_bundle_batch",
    "encode_bundle",
    "group_by_partition",
    "partition_for_token",
    "partitions_for_tokens",
]

BUNDLE_MAGIC = b"AB"
BUNDLE_VERSION = 1
BUNDLE_HEADER_SIZE = 3  # magic + version; the Kite frame starts here
_RECV_DTYPE = np.dtype(">i8")


class BundleError(CodecError):
    """Malformed bundle: bad magic or version, truncation, trailing bytes, count mismatch."""


def encode_bundle(packets: Sequence[bytes], recv_ns: Sequence[int] | np.ndarray) -> bytes:
    """Build one ``aion.ticks.raw`` message value.

    Args:
        packets: Raw Kite packets, in arrival order (carried unmodified; empty packets
            are allowed so that bad input reaches the dead-letter path).
        recv_ns: Receive time of each packet, ns since the Unix epoch (UTC).

    Returns:
        The bundle bytes.

    Raises:
        BundleError: If the counts differ, there are more than 65535 packets, a packet
            is longer than 65535 bytes, or a receive time does not fit int64.
    """
    if len(packets) != len(recv_ns):
        raise BundleError(
            f"{len(packets)} packets but {len(recv_ns)} receive times"
        )
    if len(packets) > FRAME_MAX_PACKETS:
        raise BundleError(f"{len(packets)} packets exceed the bundle maximum of 65535")
    try:
        frame = join_frame(packets, allow_empty=True)
    except CodecError as exc:
        raise BundleError(str(exc)) from None
    times = _as_ns(recv_ns)
    return b"".join(
        (BUNDLE_MAGIC, bytes((BUNDLE_VERSION,)), frame, times.astype(_RECV_DTYPE).tobytes())
    )


def _as_ns(recv_ns: Sequence[int] | np.ndarray) -> np.ndarray:
    """Validate receive times and return them as a 1-D int64 array."""
    try:
        arr = np.asarray(recv_ns)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1:
            raise BundleError(f"receive times must be one-dimensional, got shape {arr.shape}")
        # Refuse floats and objects rather than silently truncating them.
        if arr.dtype.kind not in "iu":
            raise BundleError(f"receive times must be integers (ns), got dtype {arr.dtype}")
        if arr.dtype.kind == "u" and int(arr.max()) > np.iinfo(np.int64).max:
            raise BundleError("receive time does not fit int64")
        return arr.astype(np.int64)
    except (OverflowError, TypeError, ValueError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"receive times must be int64 ns: {exc}") from None


def _check_header(data: bytes | bytearray | memoryview) -> None:
    """Validate magic and version."""
    if len(data) < BUNDLE_HEADER_SIZE + 2:
        raise BundleError(f"truncated bundle: {len(data)} bytes, header needs 5")
    if bytes(data[:2]) != BUNDLE_MAGIC:
        raise BundleError(f"bad magic {bytes(data[:2])!r} at byte 0 (expected b'AB')")
    if data[2] != BUNDLE_VERSION:
        raise BundleError(f"unsupported bundle version {data[2]} at byte 2 (expected 1)")


def _read_times(data: bytes | bytearray | memoryview, end: int, count: int) -> np.ndarray:
    """Read the receive-time array that follows the frame, checking the total size."""
    need = end + 8 * count
    if len(data) < need:
        raise BundleError(
            f"truncated bundle: {count} receive times need bytes {end}..{need}, "
            f"only {len(data)} present"
        )
    if len(data) > need:
        raise BundleError(f"{len(data) - need} trailing bytes after the bundle at byte {need}")
    return np.frombuffer(data, dtype=_RECV_DTYPE, count=count, offset=end).astype(np.int64)


def decode_bundle(data: bytes) -> tuple[list[bytes], np.ndarray]:
    """Split a bundle into its raw packets and receive times.

    Args:
        data: One ``aion.ticks.raw`` message value.

    Returns:
        The packets (bytes, in order) and an int64 array of receive times (ns, UTC).

    Raises:
        BundleError: On bad magic/version, truncation, or trailing bytes.
    """
    _check_header(data)
    try:
        packets, end = read_frame(data, BUNDLE_HEADER_SIZE, allow_empty=True)
    except CodecError as exc:
        raise BundleError(f"bad frame in bundle: {exc}") from None
    return packets, _read_times(data, end, len(packets))


def decode_bundle_batch(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Decode a bundle straight into TICK_DTYPE rows (the agents' hot path).

    Args:
        data: One ``aion.ticks.raw`` message value.

    Returns:
        TICK_DTYPE rows (malformed packets are rows with ``error != 0``) and the int64
        receive times (ns, UTC), both in packet order.

    Raises:
        BundleError: On bad magic/version, truncation, or trailing bytes.
    """
    _check_header(data)
    try:
        rows, end = read_frame_batch(data, BUNDLE_HEADER_SIZE)
    except CodecError as exc:
        raise BundleError(f"bad frame in bundle: {exc}") from None
    return rows, _read_times(data, end, len(rows))


def partition_for_token(token: int, num_partitions: int) -> int:
    """Partition of ``aion.ticks.raw`` for an instrument: the one shared rule.

    The rule is ``(token >> 8) % num_partitions``: the exchange token, because the low
    byte is the segment, and ``token % n`` would send a whole segment to one partition
    whenever ``n`` divides 256. Every producer must use this function (or its
    vectorised twin :func:`partitions_for_tokens`).

    Args:
        token: Kite instrument token (u32).
        num_partitions: Number of partitions of the topic (>= 1).

    Returns:
        The partition, in ``0..num_partitions - 1``.

    Raises:
        ValueError: If ``num_partitions < 1`` or the token is negative.
    """
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    if token < 0:
        raise ValueError(f"instrument token must be non-negative, got {token}")
    return (token >> 8) % num_partitions


def partitions_for_tokens(tokens: np.ndarray, num_partitions: int) -> np.ndarray:
    """Vectorised :func:`partition_for_token`.

    Args:
        tokens: Instrument tokens (any integer array; values must be non-negative).
        num_partitions: Number of partitions (>= 1).

    Returns:
        An int64 array of partitions, same shape as ``tokens``.

    Raises:
        ValueError: If ``num_partitions < 1`` or a token is negative.
    """
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    t = np.asarray(tokens).astype(np.int64)
    if t.size and int(t.min()) < 0:
        raise ValueError("instrument tokens must be non-negative")
    return (t >> 8) % num_partitions


def group_by_partition(tokens: np.ndarray, num_partitions: int) -> dict[int, np.ndarray]:
    """Group packet indices by partition, keeping arrival order within each partition.

    Args:
        tokens: Instrument token of each packet, in arrival order.
        num_partitions: Number of partitions (>= 1).

    Returns:
        Partition -> int64 array of indices into ``tokens`` (ascending); partitions
        with no packets are absent.
    """
    parts = partitions_for_tokens(tokens, num_partitions)
    if parts.size == 0:
        return {}
    order = np.argsort(parts, kind="stable")  # stable keeps arrival order per partition
    sorted_parts = parts[order]
    bounds = np.flatnonzero(np.diff(sorted_parts)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(order)]
    return {int(sorted_parts[lo]): order[lo:hi] for lo, hi in zip(starts, ends, strict=True)}
