"""Replay into a real broker: bundles, partitions, order, timestamps, pacing, CLI, instruments."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from datetime import time as dtime
from pathlib import Path

import numpy as np
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from aion.agents.backtest import publish_instruments
from aion.streams.bundle import decode_bundle, partition_for_token
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import END_MARKER, replay
from aion.streams.session_file import SessionWriter, count_rows, iter_batches, read_meta
from aion.streams.simulator import simulate
from aion.streams.topics import (
    TopicNames,
    delete_prefixed,
    ensure_topics,
    high_watermarks,
    read_all,
)

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 4

Row = tuple[int, bytes]  # (recv_ns, packet)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-minute simulated session (09:15-09:20) with its sidecars."""
    path = tmp_path_factory.mktemp("replay") / "s.parquet"
    simulate(date(2025, 11, 18), 7, path, start=dtime(9, 15), end=dtime(9, 20))
    return path


@pytest.fixture(scope="module")
def short_session(session: Path) -> Path:
    """The first ~20 seconds of ``session`` as its own session file."""
    out = session.with_name("short.parquet")
    with SessionWriter(out, read_meta(session)) as writer:
        first: int | None = None
        for recv, tokens, packets in iter_batches(session):
            first = int(recv[0]) if first is None else first
            keep = int(np.searchsorted(recv, first + 20 * 1_000_000_000, side="right"))
            writer.write(recv[:keep], tokens[:keep], packets[:keep])
            if keep < len(recv):
                break
    return out


@pytest.fixture()
async def names(kafka_bootstrap: str) -> AsyncIterator[TopicNames]:
    """Fresh topics under a unique prefix (4 partitions), deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topics = TopicNames(prefix)
    await ensure_topics(kafka_bootstrap, topics, PARTITIONS)
    yield topics
    await delete_prefixed(kafka_bootstrap, prefix)


def file_rows_by_partition(path: Path, partitions: int) -> dict[int, list[Row]]:
    """The file's (recv_ns, packet) rows of each partition, in file order."""
    out: dict[int, list[Row]] = defaultdict(list)
    for recv, tokens, packets in iter_batches(path):
        for rt, tok, pkt in zip(recv.tolist(), tokens.tolist(), packets, strict=True):
            out[partition_for_token(tok, partitions)].append((rt, pkt))
    return dict(out)


async def record_timestamps(bootstrap: str, topic: str) -> dict[tuple[int, int], int]:
    """``(partition, offset) -> Kafka timestamp (ms)`` for every record of ``topic``."""
    ends = await high_watermarks(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    stamps: dict[tuple[int, int], int] = {}
    try:
        tps = [TopicPartition(topic, p) for p, end in ends.items() if end > 0]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = set(tps)
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=500)).items():
                for rec in records:
                    stamps[(tp.partition, rec.offset)] = rec.timestamp
                if records and records[-1].offset >= ends[tp.partition] - 1:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return stamps


def token_of(packet: bytes) -> int:
    """A Kite packet's instrument token (its first four bytes, big-endian)."""
    return int.from_bytes(packet[:4], "big")


async def test_replay_bundles_partition_order_and_timestamps(
    kafka_bootstrap: str, names: TopicNames, session: Path
) -> None:
    rows = count_rows(session)
    stats = await replay(session, kafka_bootstrap, names.ticks_raw, PARTITIONS,
                         bundle_packets=50)
    assert stats.packets == rows

    records = await read_all(kafka_bootstrap, names.ticks_raw)
    stamps = await record_timestamps(kafka_bootstrap, names.ticks_raw)
    assert len(records) == stats.bundles + PARTITIONS  # + one end marker per partition
    assert set(stamps) == {(p, off) for p, off, _, _ in records}

    expected = file_rows_by_partition(session, PARTITIONS)
    assert set(expected) == set(range(PARTITIONS))  # the sample touches every partition
    last_recv_ms = max(rows_[-1][0] for rows_ in expected.values()) // 1_000_000

    got: dict[int, list[Row]] = defaultdict(list)
    by_partition: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for partition, offset, key, value in records:
        assert value is not None
        assert key == str(partition).encode()
        by_partition[partition].append((offset, value))

    total = 0
    for partition, messages in by_partition.items():
        offsets = [off for off, _ in messages]
        assert offsets == sorted(offsets)
        *bundles, (end_offset, end_value) = messages
        # The final message of each partition is the empty end-of-stream marker, stamped
        # with the session's last receive time; no other message is empty.
        assert end_value == END_MARKER
        assert decode_bundle(end_value)[0] == []
        assert stamps[(partition, end_offset)] == last_recv_ms
        sizes = []
        for offset, value in bundles:
            packets, recv = decode_bundle(value)
            assert 1 <= len(packets) <= 50
            sizes.append(len(packets))
            assert stamps[(partition, offset)] == int(recv[-1]) // 1_000_000
            for packet, rt in zip(packets, recv.tolist(), strict=True):
                assert partition_for_token(token_of(packet), PARTITIONS) == partition
                got[partition].append((rt, packet))
        # Max-speed replay flushes on size only: full bundles, then one remainder.
        assert all(size == 50 for size in sizes[:-1])
        assert sizes[-1] == len(expected[partition]) - 50 * (len(sizes) - 1)
        total += sum(sizes)
        assert stats.per_partition[partition] == len(expected[partition])

    assert total == rows
    for partition in range(PARTITIONS):
        # Same receive times, same bytes, same order as the file.
        assert got[partition] == expected[partition], f"partition {partition} differs"


class VirtualClock:
    """A monotonic clock that only moves when the code under test sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.wakeups: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        self.wakeups.append(self.now)


async def test_paced_replay_follows_the_recorded_clock(
    kafka_bootstrap: str, names: TopicNames, short_session: Path
) -> None:
    """Pacing on a virtual clock: each bundle leaves at its last packet's recorded time.

    Wall-clock figures of pacing live in ``bench/bench_replay.py``.
    """
    rows = count_rows(short_session)
    recv = np.concatenate([r for r, _, _ in iter_batches(short_session)])
    span_s = (int(recv[-1]) - int(recv[0])) / 1e9
    assert 18 < span_s <= 20

    clock = VirtualClock()
    paced = await replay(short_session, kafka_bootstrap, names.ticks_raw, PARTITIONS,
                         bundle_packets=500, speed=10.0, end_marker=False,
                         clock=clock, sleep=clock.sleep)
    assert paced.packets == rows
    # The replay took exactly the recorded span at 10x, and no longer.
    assert paced.seconds == pytest.approx(span_s / 10, rel=1e-9)
    assert clock.wakeups == sorted(clock.wakeups)
    assert len(clock.wakeups) >= span_s  # paced throughout, not in one final sleep
    # Every wake-up is some bundle's due time: (its last receive time - first) / speed.
    stamps = await record_timestamps(kafka_bootstrap, names.ticks_raw)
    due = np.array(sorted({(ms * 1_000_000 - int(recv[0])) / 1e9 / 10
                           for ms in stamps.values()}))
    for t in clock.wakeups:
        assert np.min(np.abs(due - t)) <= 1e-4 + 1e-9, t  # stamps are in whole ms

    fast_clock = VirtualClock()
    fast = await replay(short_session, kafka_bootstrap, names.ticks_raw, PARTITIONS,
                        bundle_packets=500, speed=None, end_marker=False,
                        clock=fast_clock, sleep=fast_clock.sleep)
    assert fast.packets == rows
    assert fast_clock.wakeups == [] and fast.seconds == 0.0
    # Pacing flushes on time as well as size, so it sends more, smaller bundles.
    assert paced.bundles > fast.bundles

    records = await read_all(kafka_bootstrap, names.ticks_raw)
    assert sum(len(decode_bundle(v)[0]) for _, _, _, v in records if v) == 2 * rows


async def test_cli_replay_into_the_fixture_broker(
    kafka_bootstrap: str, session: Path, tmp_path: Path
) -> None:
    prefix = f"cli{uuid.uuid4().hex[:10]}."
    env = {k: v for k, v in os.environ.items() if k not in ("AION_REDIS_URL",)}
    env.update({"AION_KAFKA_BOOTSTRAP": kafka_bootstrap, "AION_CACHE_DIR": str(tmp_path),
                "AION_PARTITIONS": str(PARTITIONS), "COLUMNS": "200"})
    rows = count_rows(session)
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "aion.cli", "replay", str(session), "--bundle", "100",
             "--topic-prefix", prefix],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert f"sent {rows:,} packets in " in done.stdout
        topic = TopicNames(prefix).ticks_raw
        records = await read_all(kafka_bootstrap, topic)
        sizes = [len(decode_bundle(v)[0]) for _, _, _, v in records if v is not None]
        assert sum(sizes) == rows
        assert max(sizes) == 100
        assert sizes.count(0) == PARTITIONS
        assert f"in {len(sizes) - PARTITIONS:,} bundles" in done.stdout
    finally:
        await delete_prefixed(kafka_bootstrap, prefix)


async def test_publish_instruments_round_trips_the_master(
    kafka_bootstrap: str, names: TopicNames, session: Path
) -> None:
    master = InstrumentMaster.from_csv(session.with_suffix(".instruments.csv"))
    sent = await publish_instruments(kafka_bootstrap, names.instruments, master)
    assert sent == len(master) > 100

    records = await read_all(kafka_bootstrap, names.instruments)
    assert len(records) == len(master)
    pairs = []
    for _, _, key, value in records:
        assert key is not None and value is not None
        pairs.append((key.decode(), json.loads(value)))
    assert len({k for k, _ in pairs}) == len(master)
    assert {int(k) for k, _ in pairs} == {i.instrument_token for i in master}

    rebuilt = InstrumentMaster.from_records(pairs)
    assert rebuilt.digest() == master.digest() == read_meta(session).instrument_master_digest
    assert rebuilt.symbol_for(738561) == "NSE:RELIANCE"
