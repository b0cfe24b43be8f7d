"""Topic names and their creation (docs/architecture.md, "Topology").

Every topic name carries the configured prefix so backtests can run under a private
prefix and delete everything they created afterwards, changelogs included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The engine's topic names under one prefix.

    Attributes:
        prefix: Prepended verbatim (``"bt-1234."`` gives ``bt-1234.aion.ticks.raw``).
    """

    prefix: str = ""

    @property
    def ticks_raw(self) -> str:
        """Partition bundles of raw Kite packets: the source of truth."""
        return f"{self.prefix}aion.ticks.raw"

    @property
    def chain_inputs(self) -> str:
        """Per bundle and underlying, the option/spot quotes it touched (before the group-by)."""
        return f"{self.prefix}aion.chain.inputs"

    @property
    def chain_agent(self) -> str:
        """Name of the chain agent; Faust derives its group-by topic name from it."""
        return f"{self.prefix}chain"

    @property
    def chain_repartition(self) -> str:
        """The chain agent's internal group-by topic (re-keyed by underlying).

        Faust names it ``{agent}-{source topic}-{group_by name}-repartition``; the agent
        name carries the prefix so prefixed cleanup removes it too.
        """
        return f"{self.chain_agent}-{self.chain_inputs}-chain-by-underlying-repartition"

    @property
    def volume_averages(self) -> str:
        """Daily volume averages per symbol (compacted), from ``aion baselines build``."""
        return f"{self.prefix}aion.volume.averages"

    @property
    def instruments(self) -> str:
        """The instrument master (compacted), held whole by every worker (not a GlobalTable)."""
        return f"{self.prefix}aion.instruments"

    def app_id(self, base: str) -> str:
        """Faust app id under this prefix (changelog topics are named after it)."""
        return f"{self.prefix}{base}"

    def topic(self, name: str) -> str:
        """Any topic under this prefix (outputs: ``aion.agents.outputs`` names them)."""
        return f"{self.prefix}{name}"

    def source_topics(self) -> list[str]:
        """The engine's own topics created up front with the tick partition count.

        The output topics are added by the caller from the output registry
        (``aion.agents.outputs.OUTPUTS.topics``): this package does not know them.
        """
        return [self.ticks_raw, self.chain_inputs]


async def ensure_topics(
    bootstrap: str,
    names: TopicNames,
    partitions: int,
    replicas: int = 1,
    outputs: Iterable[str] = (),
) -> None:
    """Create the engine's topics if missing (existing ones are left as they are).

    Source topics are created explicitly because a broker's auto-create default
    partition count would break co-partitioning with the Faust tables.

    Args:
        bootstrap: Broker address.
        names: Topic names.
        partitions: Partition count of the tick topic and everything keyed alongside it.
        replicas: Replication factor.
        outputs: Output topics (from the output registry), created like the source topics.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(t, partitions, replicas)
            for t in [*names.source_topics(), *outputs] if t not in existing
        ]
        for compacted in (names.instruments, names.volume_averages):
            if compacted not in existing:
                wanted.append(
                    NewTopic(compacted, 1, replicas, topic_configs={"cleanup.policy": "compact"})
                )
        for topic in wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([topic])
                log.info("created topic %s (%d partitions)", topic.name, topic.num_partitions)
    finally:
        await admin.close()


async def topic_partitions(bootstrap: str, topic: str) -> int:
    """Return the partition count of ``topic`` (0 when it does not exist).

    Args:
        bootstrap: Broker address.
        topic: Topic name.

    Returns:
        Partition count.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for entry in described:
        if entry.get("topic") == topic and not entry.get("error_code"):
            return len(entry.get("partitions", []))
    return 0


async def delete_prefixed(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (a backtest's run prefix).

    Args:
        bootstrap: Broker address.
        prefix: Non-empty run prefix.

    Returns:
        The deleted topic names.

    Raises:
        ValueError: For an empty prefix (that would delete everything).
    """
    if not prefix:
        raise ValueError("refusing to delete topics with an empty prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await asyncio.wait_for(admin.delete_topics(doomed), 30)
    finally:
        await admin.close()
    return doomed


Record = tuple[int, int, bytes | None, bytes | None]


async def read_all(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[Record]:
    """Read a topic from the beginning to its current end.

    Args:
        bootstrap: Broker address.
        topic: Topic name.
        timeout_s: Give up after this long.

    Returns:
        ``(partition, offset, key, value)`` for every record, partition by partition.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[Record] = []
    try:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return out
        consumer.assign(tps)
        marks = await high_watermarks(bootstrap, topic)
        ends = {tp: marks.get(tp.partition, 0) for tp in tps}
        await consumer.seek_to_beginning(*tps)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining and loop.time() < deadline:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                for rec in records:
                    if rec.offset < ends[tp]:
                        out.append((tp.partition, rec.offset, rec.key, rec.value))
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
        out.sort(key=lambda r: (r[0], r[1]))
        return out
    finally:
        await consumer.stop()


async def high_watermarks(bootstrap: str, topic: str, timeout_s: float = 10.0) -> dict[int, int]:
    """The true end offset (high watermark) of every partition of ``topic``.

    Tansu answers ListOffsets(latest) with the *base* offset of the last record batch
    plus one, which undercounts whenever that batch holds several records. The high
    watermark in a Fetch response is right, so fetch from just before the reported end.

    Args:
        bootstrap: Broker address.
        topic: Topic name.
        timeout_s: Give up waiting for fetch responses after this long.

    Returns:
        Partition -> high watermark (empty for a missing topic).
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_bytes=1024, max_partition_fetch_bytes=1024)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return {}
        reported = await consumer.end_offsets(tps)
        result = {tp.partition: 0 for tp in tps if reported[tp] == 0}
        pending = [tp for tp in tps if reported[tp] > 0]
        if pending:
            consumer.assign(pending)
            for tp in pending:
                consumer.seek(tp, reported[tp] - 1)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while pending and loop.time() < deadline:
                await consumer.getmany(*pending, timeout_ms=200, max_records=1)
                for tp in list(pending):
                    hw = consumer.highwater(tp)
                    if hw is not None:
                        result[tp.partition] = max(hw, reported[tp])
                        pending.remove(tp)
            for tp in pending:  # no fetch answer: fall back to what ListOffsets said
                result[tp.partition] = reported[tp]
        return result
    finally:
        await consumer.stop()
