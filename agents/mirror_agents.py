"""One Faust agent per mirrored output: decode its records, write them through the mirror.

Redis itself records the last offset written per (topic, partition), right after the
data (``aion:mirror:offsets:{topic}``), so the mirror never depends on when Faust commits:
an offset at or below it is skipped, a gap above it is re-read from the topic
(docs/architecture.md, "Exactly the events, once").
"""

from __future__ import annotations

import logging
from typing import Any

from aion.agents.backfill import Backfill
from aion.agents.mirror import RedisMirror
from aion.agents.outputs import Output, OutputRegistry
from aion.agents.stats import EngineStats
from aion.tables.records import RecordFormatError

log = logging.getLogger(__name__)


class MirrorHandler:
    """Writes one topic's records into Redis, each offset exactly once in effect.

    Args:
        mirror: The Redis mirror.
        registry: Decodes the records.
        topic_name: The source topic.
        backfill: Re-reads offsets Redis lacks.
        stats: Counters.
    """

    def __init__(self, mirror: RedisMirror, registry: OutputRegistry, topic_name: str,
                 backfill: Backfill, stats: EngineStats) -> None:
        self.mirror = mirror
        self.registry = registry
        self.topic_name = topic_name
        self.backfill = backfill
        self.stats = stats

    async def handle(self, partition: int, offset: int, value: bytes) -> None:
        """Write the records of one message unless Redis already holds them."""
        done = await self.mirror.last_offset(self.topic_name, partition)
        if offset <= done:
            return
        if offset > done + 1:
            for missed, data in await self.backfill.read(partition, done + 1, offset):
                self.stats.mirror_backfilled += 1
                await self._write(partition, missed, data)
        await self._write(partition, offset, value)

    async def _write(self, partition: int, offset: int, value: bytes) -> None:
        try:
            records = self.registry.codec.decode_many(value)
        except RecordFormatError as exc:
            # Written by a newer engine, or corrupt: skip it loudly, never crash the worker.
            self.stats.deadletters["mirror_unreadable"] += 1
            log.error("%s[%d]@%d: %s", self.topic_name, partition, offset, exc)
            records = []
        await self.mirror.write(records, self.topic_name, partition, offset)


def register_mirror_agent(app: Any, topic: Any, output: Output, handler: MirrorHandler) -> None:
    """Declare the mirror agent of one output on ``app``.

    Args:
        app: The Faust app.
        topic: The output's topic.
        output: The output (names the agent ``mirror-{name}``).
        handler: What each event goes through.
    """

    async def run(stream: Any) -> None:
        async for event in stream.events():
            await handler.handle(event.message.partition, event.message.offset, event.value)

    run.__doc__ = f"Copy {output.name} records into Redis, each offset exactly once in effect."
    app.agent(topic, name=f"mirror-{output.name}")(run)
