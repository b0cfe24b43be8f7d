"""Tests for aion.streams.bundle: framing of aion.ticks.raw and the partition rule."""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.streams.batch import ERROR_EMPTY, decode_packets
from aion.streams.bundle import (
    BundleError,
    decode_bundle,
    decode_bundle_batch,
    encode_bundle,
    group_by_partition,
    partition_for_token,
    partitions_for_tokens,
)
from aion.streams.codec import CodecError, PacketKind, join_frame

KINDS = list(PacketKind)
INT64 = st.integers(-(2**63), 2**63 - 1)


@st.composite
def packets(draw: st.DrawFn) -> bytes:
    k = draw(st.sampled_from(KINDS))
    b = bytearray(draw(st.binary(min_size=k.value, max_size=k.value)))
    b[3] = draw(st.sampled_from([1, 2, 3, 6, 9, 12]))
    if k is PacketKind.FULL:
        for level in range(10):
            b[64 + level * 12 + 10 : 64 + level * 12 + 12] = b"\x00\x00"
    return bytes(b)


@st.composite
def bundles(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    ps = draw(st.lists(packets(), max_size=30))
    return ps, draw(st.lists(INT64, min_size=len(ps), max_size=len(ps)))


def test_layout_byte_by_byte() -> None:
    p = b"\x00\x00\x01\x01" + b"\x00\x00\x30\x39"
    data = encode_bundle([p], [1_700_000_000_123_456_789])
    assert data == b"AB\x01" + b"\x00\x01" + b"\x00\x08" + p + struct.pack(
        ">q", 1_700_000_000_123_456_789
    )
    assert data[3:-8] == join_frame([p])


def test_empty_bundle() -> None:
    data = encode_bundle([], [])
    assert data == b"AB\x01\x00\x00"
    ps, ns = decode_bundle(data)
    assert ps == [] and ns.dtype == np.int64 and ns.shape == (0,)
    rows, ns = decode_bundle_batch(data)
    assert rows.shape == (0,) and ns.shape == (0,)


@settings(max_examples=400, deadline=None)
@given(bundles())
def test_round_trip(b: tuple[list[bytes], list[int]]) -> None:
    ps, ns = b
    data = encode_bundle(ps, np.array(ns, dtype=np.int64))
    assert encode_bundle(ps, ns) == data
    got_ps, got_ns = decode_bundle(data)
    assert got_ps == ps
    assert got_ns.dtype == np.int64 and got_ns.tolist() == ns
    rows, batch_ns = decode_bundle_batch(data)
    assert rows.tobytes() == decode_packets(ps).tobytes()
    assert batch_ns.tolist() == ns


def test_zero_length_packet_is_an_error_row() -> None:
    good = b"\x00\x00\x01\x01" + b"\x00\x00\x00\x01"
    data = encode_bundle([good, b"", good], [1, 2, 3])
    ps, _ = decode_bundle(data)
    assert ps == [good, b"", good]
    rows, ns = decode_bundle_batch(data)
    assert rows["error"].tolist() == [0, ERROR_EMPTY, 0]
    assert ns.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "truncated"),
        (b"AB\x01\x00", "truncated"),
        (b"XB\x01\x00\x00", "magic"),
        (b"AB\x02\x00\x00", "version"),
        (b"AB\x01\x00\x01\x00\x08\x00", "frame"),
        (b"AB\x01\x00\x00\x00", "trailing"),
    ],
)
def test_malformed_bundles(data: bytes, match: str) -> None:
    for decode in (decode_bundle, decode_bundle_batch):
        with pytest.raises(BundleError, match=match):
            decode(data)


@settings(max_examples=300, deadline=None)
@given(bundles(), st.data())
def test_truncated_or_extended_bundles_raise(
    b: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    full = encode_bundle(*b)
    cut = data.draw(st.integers(0, len(full) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=16))
    for bad in (full[:cut], full + extra):
        for decode in (decode_bundle, decode_bundle_batch):
            with pytest.raises(BundleError):
                decode(bad)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300).map(lambda b: b"AB\x01" + b))
def test_arbitrary_bytes_only_bundle_error(data: bytes) -> None:
    for decode in (decode_bundle, decode_bundle_batch):
        with contextlib.suppress(BundleError):
            decode(data)


def test_encode_errors() -> None:
    p = b"\x00" * 8
    with pytest.raises(BundleError, match="receive times"):
        encode_bundle([p, p], [1])
    with pytest.raises(BundleError, match="65535"):
        encode_bundle([p] * 65536, np.zeros(65536, dtype=np.int64))
    with pytest.raises(BundleError):
        encode_bundle([b"\x00" * 65536], [0])
    with pytest.raises(BundleError, match="integers"):
        encode_bundle([p], [1.5])
    with pytest.raises(BundleError):
        encode_bundle([p], [2**63])
    with pytest.raises(BundleError):
        encode_bundle([p], np.array([2**64 - 1], dtype=np.uint64))
    assert issubclass(BundleError, CodecError)


def test_max_bundle() -> None:
    p = b"\x00\x00\x01\x01\x00\x00\x00\x05"
    data = encode_bundle([p] * 65535, np.arange(65535, dtype=np.int64))
    rows, ns = decode_bundle_batch(data)
    assert len(rows) == 65535 and (rows["last_price"] == 0.05).all()
    assert (ns == np.arange(65535)).all()


# --- partitioning ---------------------------------------------------------------------


def test_partition_rule() -> None:
    assert partition_for_token(408065, 12) == (408065 >> 8) % 12
    assert partition_for_token(0, 1) == 0
    with pytest.raises(ValueError):
        partition_for_token(1, 0)
    with pytest.raises(ValueError):
        partition_for_token(-1, 4)
    with pytest.raises(ValueError):
        partitions_for_tokens(np.array([1, -1]), 4)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=50), st.integers(1, 64))
def test_partition_vectorised_equals_scalar(tokens: list[int], n: int) -> None:
    arr = np.array(tokens, dtype=np.uint32)
    parts = partitions_for_tokens(arr, n)
    assert parts.tolist() == [partition_for_token(t, n) for t in tokens]
    assert all(0 <= p < n for p in parts.tolist())
    assert partitions_for_tokens(arr, n).tolist() == parts.tolist()  # stable


@pytest.mark.parametrize("n", [1, 2, 4, 8, 12, 16, 32])
def test_one_segment_spreads_over_all_partitions(n: int) -> None:
    # NSE equity tokens (segment 1): consecutive exchange tokens.
    tokens = (np.arange(1000, 1000 + 50 * n, dtype=np.int64) << 8) | 1
    counts = np.bincount(partitions_for_tokens(tokens, n), minlength=n)
    assert (counts == 50).all()
    # The tempting token % n would put every segment-1 token on one partition.
    if n in (2, 4, 8, 16, 32):
        assert len(set((tokens % n).tolist())) == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=60), st.integers(1, 16))
def test_group_by_partition(tokens: list[int], n: int) -> None:
    arr = np.array(tokens, dtype=np.uint32)
    groups = group_by_partition(arr, n)
    seen = np.concatenate(list(groups.values())) if groups else np.zeros(0, np.int64)
    assert sorted(seen.tolist()) == list(range(len(tokens)))
    for part, idx in groups.items():
        assert idx.tolist() == sorted(idx.tolist())  # arrival order kept
        assert all(partition_for_token(tokens[i], n) == part for i in idx.tolist())
