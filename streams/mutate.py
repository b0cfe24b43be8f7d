"""Mutated Kite packets for fuzzing the engine: every mutation class of the issue-11 probe.

:func:`fuzz_bundles` takes clean packets (a session file's), mutates a share of them
(seeded, so a run is reproducible), cuts them into partition bundles the way producers
do, and adds whole-bundle faults: a corrupt bundle and a redelivered one. It returns a
:class:`FuzzBundle` per message with what was done to each packet, so a test can check
that every packet is accounted for and that the mutations with a certain outcome got it
(:data:`EXPECTED_REASONS`). Used by ``tests/agents/test_fuzz.py`` (100k packets) and
``bench/bench_fuzz.py`` (1M).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aion.streams.batch import field_offset
from aion.streams.bundle import encode_bundle, partition_for_token
from aion.streams.codec import PacketKind
from aion.streams.session_file import iter_batches
from aion.tables.timeutil import NS_PER_S

DAY_S = 86_400
U32_MAX = 0xFFFF_FFFF
UNKNOWN_TOKEN = 4_000_000_001
"""A token no instrument master holds."""

_FULL = int(PacketKind.FULL)


def _put_u32(packet: bytes, column: str, value: int | Callable[[int], int]) -> bytes:
    """``packet`` with a u32 column set (or transformed); unchanged if the kind lacks it."""
    try:
        at = field_offset(len(packet), column)
    except (KeyError, ValueError):
        return packet
    old = int.from_bytes(packet[at:at + 4], "big")
    new = value(old) if callable(value) else value
    return packet[:at] + (new & U32_MAX).to_bytes(4, "big") + packet[at + 4:]


def _bit_flip(p: bytes, r: int, rng: random.Random) -> tuple[bytes, int]:
    if not p:
        return p, r
    bit = rng.randrange(len(p) * 8)
    b = bytearray(p)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b), r


def _truncate(p: bytes, r: int, rng: random.Random) -> tuple[bytes, int]:
    return p[:rng.randrange(max(1, len(p)))], r


def _extend(p: bytes, r: int, rng: random.Random) -> tuple[bytes, int]:
    return p + rng.randbytes(rng.randint(1, 40)), r


def _exchange(shift: Callable[[int], int]) -> Callable[[bytes, int, random.Random],
                                                       tuple[bytes, int]]:
    def mutate(p: bytes, r: int, _rng: random.Random) -> tuple[bytes, int]:
        return _put_u32(p, "exchange_ts", shift), r
    return mutate


def _column(column: str, value: int | Callable[[int], int]) -> Callable[
        [bytes, int, random.Random], tuple[bytes, int]]:
    def mutate(p: bytes, r: int, _rng: random.Random) -> tuple[bytes, int]:
        return _put_u32(p, column, value), r
    return mutate


MUTATIONS: dict[str, Callable[[bytes, int, random.Random], tuple[bytes, int]]] = {
    "bit_flip": _bit_flip,
    "truncate": _truncate,
    "extend": _extend,
    "empty": lambda p, r, _rng: (b"", r),
    "recv_int64_edge": lambda p, r, rng: (p, 2**63 - 1 - rng.randrange(6 * 3600 * NS_PER_S)),
    "recv_negative": lambda p, r, rng: (p, -(2**63) + rng.randrange(2**40)),
    "recv_1970": lambda p, r, rng: (p, rng.randrange(30 * DAY_S * NS_PER_S)),
    "exchange_day_ahead": _exchange(lambda ts: ts + DAY_S),
    "exchange_day_behind": _exchange(lambda ts: ts - DAY_S),
    "exchange_1970": _exchange(lambda ts: ts // 1000),  # a ms-for-s unit bug
    "exchange_u32_max": _exchange(lambda _ts: U32_MAX),
    "volume_u32_max": _column("volume", U32_MAX),
    "price_u32_max": _column("last_price", U32_MAX),
    "price_zero": _column("last_price", 0),
    "price_ten_times": _column("last_price", lambda p: p * 10),
    "unknown_token": _column("token", UNKNOWN_TOKEN),
}
"""Per-packet mutations: ``(packet, recv_ns, rng) -> (packet, recv_ns)``."""

STREAM_MUTATIONS = ("duplicate", "reorder")
"""Mutations of the packet order: a packet sent twice, two packets swapped."""

_FULL_ONLY = {"exchange_day_ahead", "exchange_day_behind", "exchange_1970",
              "exchange_u32_max", "volume_u32_max", "price_u32_max", "price_zero",
              "price_ten_times"}
"""Field mutations applied to full-mode packets only (every field they touch is there)."""

EXPECTED_REASONS: dict[str, str] = {
    "empty": "decode_error",
    "recv_int64_edge": "receive_time_out_of_range",
    "recv_negative": "receive_time_out_of_range",
    "recv_1970": "receive_time_out_of_range",
    "exchange_day_ahead": "exchange_time_skew",
    "exchange_day_behind": "exchange_time_skew",
    "exchange_1970": "exchange_time_skew",
    "exchange_u32_max": "exchange_time_skew",
    "price_u32_max": "bad_price",
    "price_zero": "bad_price",
    "unknown_token": "unknown_token",
}
"""Mutations whose packet must be dead-lettered, with this reason group."""


@dataclass
class FuzzBundle:
    """One message of the fuzzed stream.

    Attributes:
        partition: Partition.
        offset: Offset in the partition (a redelivery repeats one).
        data: The bundle's bytes.
        labels: Per packet, its mutation ("" for none; None for a corrupt bundle).
        corrupt: Whether the bundle's framing was broken (one dead letter for all).
        redelivery: Whether this repeats an earlier message (every packet a duplicate).
    """

    partition: int
    offset: int
    data: bytes
    labels: list[str]
    corrupt: bool = False
    redelivery: bool = False


@dataclass
class FuzzCounts:
    """What :func:`fuzz_bundles` produced."""

    packets: int = 0
    by_mutation: dict[str, int] = field(default_factory=dict)
    corrupt_bundles: int = 0
    redeliveries: int = 0


def clean_packets(path: Path, n: int) -> Iterator[tuple[int, int, bytes]]:
    """``n`` clean ``(recv_ns, token, packet)`` from a session file, cycled if shorter.

    Each further pass is shifted a week later (receive and exchange times), so time
    still moves forward.

    Args:
        path: Session file.
        n: Packets wanted.

    Yields:
        The packets in receive order.
    """
    done = 0
    week = 0
    while done < n:
        shift_s = week * 7 * DAY_S
        for recv, tokens, packets in iter_batches(path):
            for r, t, p in zip(recv.tolist(), tokens.tolist(), packets, strict=True):
                if shift_s:
                    r += shift_s * NS_PER_S
                    p = _put_u32(p, "exchange_ts",
                                 lambda ts, s=shift_s: ts + s if ts else 0)
                yield r, t, p
                done += 1
                if done == n:
                    return
        week += 1


def fuzz_bundles(path: Path, n: int, *, seed: int, partitions: int, bundle_packets: int,
                 rate: float = 0.3, counts: FuzzCounts | None = None) -> Iterator[FuzzBundle]:
    """Mutated packets of a session file, cut into partition bundles.

    Args:
        path: Session file (clean packets).
        n: Packets (before duplication).
        seed: Random seed.
        partitions: Partition count.
        bundle_packets: Packets per bundle.
        rate: Share of packets mutated.
        counts: Filled with what was produced.

    Yields:
        Bundles in production order.
    """
    rng = random.Random(seed)
    counts = counts if counts is not None else FuzzCounts()
    names = [*MUTATIONS, *STREAM_MUTATIONS]
    pending: list[list[tuple[bytes, int, str]]] = [[] for _ in range(partitions)]
    offsets = [0] * partitions
    held: tuple[int, int, bytes, int] | None = None  # a packet swapped with the next

    def emit(p: int) -> Iterator[FuzzBundle]:
        rows = pending[p]
        pending[p] = []
        data = encode_bundle([b for b, _, _ in rows], [r for _, r, _ in rows])
        bundle = FuzzBundle(p, offsets[p], data, [lab for _, _, lab in rows])
        choice = rng.random()
        if choice < 0.004:  # a corrupt message: truncated framing
            counts.corrupt_bundles += 1
            bundle = FuzzBundle(p, offsets[p], data[:rng.randrange(3, len(data) - 1)],
                                bundle.labels, corrupt=True)
        offsets[p] += 1
        yield bundle
        if choice > 0.99:  # redelivered after a crash
            counts.redeliveries += 1
            yield FuzzBundle(bundle.partition, bundle.offset, bundle.data, bundle.labels,
                             bundle.corrupt, redelivery=True)

    def add(recv: int, token: int, packet: bytes, label: str) -> Iterator[FuzzBundle]:
        p = partition_for_token(token, partitions)
        pending[p].append((packet, recv, label))
        counts.packets += 1
        counts.by_mutation[label] = counts.by_mutation.get(label, 0) + 1
        if len(pending[p]) >= bundle_packets:
            yield from emit(p)

    for recv, token, packet in clean_packets(path, n):
        label = ""
        if rng.random() < rate:
            label = rng.choice(names)
            if label in _FULL_ONLY and len(packet) != _FULL:
                label = ""
        if label == "duplicate":
            yield from add(recv, token, packet, "")
        elif label == "reorder":
            if held is None:
                held = (recv, token, packet, 0)
                continue
            label = ""
        elif label:
            packet, recv = MUTATIONS[label](packet, recv, rng)
        yield from add(recv, token, packet, label)
        if held is not None and label != "reorder":
            yield from add(held[0], held[1], held[2], "reorder")
            held = None
    if held is not None:
        yield from add(held[0], held[1], held[2], "reorder")
    for p in range(partitions):
        if pending[p]:
            yield from emit(p)
