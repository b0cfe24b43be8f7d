"""Re-reading a topic range that a consumer's own bookkeeping says it lacks."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class Backfill:
    """Re-reads records of one topic that a consumer's own bookkeeping says it lacks.

    Used by the ticks agent (bundles the restored state has not seen) and the Redis
    mirror (records Redis has not seen).
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic

    async def read(self, partition: int, start: int, end: int) -> list[tuple[int, bytes]]:
        """Records of ``partition`` with ``start <= offset < end``, in offset order.

        Args:
            partition: Source partition.
            start: First offset wanted.
            end: First offset not wanted.

        Returns:
            ``(offset, value)`` pairs.
        """
        from aiokafka import AIOKafkaConsumer, TopicPartition

        log.warning("%s[%d]: re-reading offsets %d..%d not yet applied",
                    self._topic, partition, start, end - 1)
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        out: list[tuple[int, bytes]] = []
        try:
            tp = TopicPartition(self._topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, start)
            while not out or out[-1][0] < end - 1:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records = batch.get(tp, [])
                if not records and consumer.highwater(tp) is not None \
                        and consumer.highwater(tp) <= start:
                    break  # nothing there (retention): give up rather than spin
                for rec in records:
                    if start <= rec.offset < end:
                        out.append((rec.offset, rec.value))
                    start = max(start, rec.offset + 1)
                if records and records[-1].offset >= end - 1:
                    break
        finally:
            await consumer.stop()
        return out
