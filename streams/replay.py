"""Replay a recorded session into ``aion.ticks.raw`` as partition bundles.

Packets are routed with the one shared token-to-partition rule
(:func:`aion.streams.bundle.partition_for_token`), kept in arrival order per partition,
and flushed as a bundle when a partition has ``bundle_packets`` of them (or, when paced,
whenever the replay clock reaches them). The Kafka timestamp of a bundle is the receive
time of its last packet. After the last packet an empty bundle goes to every partition:
the end-of-stream marker that closes open bars.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aiokafka import AIOKafkaProducer

from aion.streams.bundle import encode_bundle, partitions_for_tokens
from aion.streams.session_file import iter_batches

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class ReplayError(RuntimeError):
    """The replay could not run (bad speed, missing topic, broker refused)."""


def parse_speed(text: str) -> float | None:
    """Parse ``max``, ``1x``, ``10x`` or ``2.5``.

    Args:
        text: The speed option.

    Returns:
        None for "as fast as possible", else the pacing factor (> 0).

    Raises:
        ReplayError: For anything else.
    """
    value = text.strip().lower()
    if value == "max":
        return None
    try:
        factor = float(value[:-1] if value.endswith("x") else value)
    except ValueError:
        raise ReplayError(f"bad speed {text!r}: use max, 1x, 10x ...") from None
    if not factor > 0:
        raise ReplayError(f"bad speed {text!r}: must be positive")
    return factor


@dataclass
class ReplayStats:
    """What a replay sent."""

    packets: int = 0
    bundles: int = 0
    bytes: int = 0
    seconds: float = 0.0
    first_recv_ns: int = 0
    last_recv_ns: int = 0
    per_partition: dict[int, int] = field(default_factory=dict)


@dataclass
class Bundle:
    """Packets of one partition, in arrival order, with their receive times."""

    partition: int
    packets: list[bytes]
    recv_ns: np.ndarray

    def encode(self) -> bytes:
        """The bundle's wire form (see :mod:`aion.streams.bundle`)."""
        return encode_bundle(self.packets, self.recv_ns)


def iter_bundles(
    path: Path,
    partitions: int,
    bundle_packets: int,
    *,
    flush_gap_ns: int | None = None,
    progress: Progress | None = None,
) -> Iterator[Bundle]:
    """Cut a session file into partition bundles, the way every producer must.

    Packets go to ``partition_for_token``'s partition in file (arrival) order; a
    partition's bundle is emitted when it holds ``bundle_packets`` packets. With
    ``flush_gap_ns``, every pending bundle is emitted as soon as the next packet arrives
    more than that long after the oldest pending one (paced replays stay live-like).
    Remaining packets are emitted at the end, in partition order.

    Args:
        path: Session Parquet file.
        partitions: Partition count.
        bundle_packets: Maximum packets per bundle (1..65535).
        flush_gap_ns: Optional time-based flush.
        progress: Called with the packets read per file batch.

    Yields:
        Bundles.

    Raises:
        ReplayError: For a bad bundle size.
    """
    if not 1 <= bundle_packets <= 65535:
        raise ReplayError(f"bundle size must be 1..65535, got {bundle_packets}")
    pending: list[list[bytes]] = [[] for _ in range(partitions)]
    times: list[list[int]] = [[] for _ in range(partitions)]
    oldest: int | None = None

    def take(p: int) -> Bundle:
        bundle = Bundle(p, pending[p], np.asarray(times[p], dtype=np.int64))
        pending[p], times[p] = [], []
        return bundle

    for recv_ns, tokens, packets in iter_batches(path):
        parts = partitions_for_tokens(tokens, partitions).tolist()
        recv = recv_ns.tolist()
        for i, packet in enumerate(packets):
            rt = recv[i]
            if flush_gap_ns is not None:
                if oldest is not None and rt - oldest > flush_gap_ns:
                    for p in range(partitions):
                        if pending[p]:
                            yield take(p)
                    oldest = None
                if oldest is None:
                    oldest = rt
            p = parts[i]
            pending[p].append(packet)
            times[p].append(rt)
            if len(pending[p]) >= bundle_packets:
                yield take(p)
                if flush_gap_ns is not None and not any(pending):
                    oldest = None
        if progress:
            progress(len(packets))
    for p in range(partitions):
        if pending[p]:
            yield take(p)


END_MARKER = encode_bundle([], np.zeros(0, dtype=np.int64))
"""The end-of-stream marker: an empty bundle (closes open bars and buckets)."""


def make_producer(bootstrap: str, linger_ms: int = 5) -> AIOKafkaProducer:
    """A producer fit for the embedded broker and for Kafka alike.

    Tansu rejects InitProducerId, so idempotence and transactions stay off; the
    consumer side is idempotent instead (docs/architecture.md, "Exactly the events, once").

    Args:
        bootstrap: Broker address.
        linger_ms: Producer linger.

    Returns:
        An unstarted producer.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        acks="all",
        linger_ms=linger_ms,
        max_request_size=8 * 1024 * 1024,
        max_batch_size=1024 * 1024,
    )


async def replay(
    path: Path,
    bootstrap: str,
    topic: str,
    partitions: int,
    *,
    bundle_packets: int = 500,
    speed: float | None = None,
    progress: Progress | None = None,
    end_marker: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> ReplayStats:
    """Produce a recorded session to ``topic``.

    Args:
        path: Session Parquet file.
        bootstrap: Broker address.
        topic: Raw tick topic (must exist with ``partitions`` partitions).
        partitions: Partition count used by the token-to-partition rule.
        bundle_packets: Packets per bundle (1..65535).
        speed: None = max speed, else pace by recorded receive times at this factor.
        progress: Called with the number of packets sent since the last call.
        end_marker: Send an empty end-of-stream bundle to every partition at the end.
        clock: Monotonic seconds (pacing and ``stats.seconds``); tests pass a virtual one.
        sleep: Awaitable sleep used for pacing, paired with ``clock``.

    Returns:
        Statistics.

    Raises:
        ReplayError: For a bad bundle size.
    """
    stats = ReplayStats(per_partition=dict.fromkeys(range(partitions), 0))
    producer = make_producer(bootstrap)
    await producer.start()
    inflight: list[asyncio.Future] = []
    started = clock()
    flush_gap = None if speed is None else int(2_000_000 * speed)
    try:
        for bundle in iter_bundles(
            path, partitions, bundle_packets, flush_gap_ns=flush_gap, progress=progress
        ):
            last = int(bundle.recv_ns[-1])
            if not stats.first_recv_ns:
                stats.first_recv_ns = int(bundle.recv_ns[0])
            if speed is not None:
                due = (last - stats.first_recv_ns) / 1e9 / speed - (clock() - started)
                if due > 0:
                    await sleep(due)
            value = bundle.encode()
            inflight.append(
                await producer.send(
                    topic,
                    value=value,
                    key=str(bundle.partition).encode(),
                    partition=bundle.partition,
                    timestamp_ms=last // 1_000_000,
                )
            )
            stats.packets += len(bundle.packets)
            stats.bundles += 1
            stats.bytes += len(value)
            stats.per_partition[bundle.partition] += len(bundle.packets)
            stats.last_recv_ns = max(stats.last_recv_ns, last)
            if len(inflight) >= 256:
                await asyncio.gather(*inflight)
                inflight.clear()
        if end_marker:
            stamp = (stats.last_recv_ns or time.time_ns()) // 1_000_000
            for p in range(partitions):
                inflight.append(
                    await producer.send(
                        topic,
                        value=END_MARKER,
                        key=str(p).encode(),
                        partition=p,
                        timestamp_ms=stamp,
                    )
                )
        if inflight:
            await asyncio.gather(*inflight)
        await producer.flush()
    finally:
        await producer.stop()
    stats.seconds = clock() - started
    log.info(
        "replayed %d packets in %d bundles in %.2fs", stats.packets, stats.bundles, stats.seconds
    )
    return stats
