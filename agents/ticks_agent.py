"""The tick agent: bundles of ``aion.ticks.raw`` through the bundle processor.

Exactly the events, once: the per-partition mark (``agents/table_store.py``) makes the
agent independent of how Faust orders offset commits and changelog writes. A bundle at or
below the mark was applied (skip it); a bundle beyond ``mark + 1`` means the stream was
committed past what the restored state holds, so the missing bundles are re-read from the
log first. Outputs are sent and acknowledged before the states are written, and the mark
after the states (docs/architecture.md, "Exactly the events, once").
"""

from __future__ import annotations

from typing import Any

from aion.agents.backfill import Backfill
from aion.agents.processor import BundleProcessor, Emitter
from aion.agents.stats import EngineStats
from aion.agents.table_store import TableStore


class TickHandler:
    """Applies bundles of one worker: process, emit, write states, then the mark.

    Args:
        processor: The bundle processor (over ``store``).
        store: The state table.
        emitter: Where records go.
        backfill: Re-reads bundles the restored state lacks.
        stats: Counters.
    """

    def __init__(self, processor: BundleProcessor, store: TableStore, emitter: Emitter,
                 backfill: Backfill, stats: EngineStats) -> None:
        self.processor = processor
        self.store = store
        self.emitter = emitter
        self.backfill = backfill
        self.stats = stats

    async def handle(self, partition: int, offset: int, data: bytes) -> None:
        """Apply one bundle if it is new, after any bundles missing before it.

        Args:
            partition: Source partition.
            offset: Source offset.
            data: The bundle.
        """
        applied = self.store.applied_up_to(partition)
        if offset <= applied:
            self.stats.skipped_bundles += 1
            return
        if offset > applied + 1:
            # Gap: on a fresh topic offsets start at 0, so anything missing is replayed.
            for missed, value in await self.backfill.read(partition, applied + 1, offset):
                self.stats.backfilled_bundles += 1
                await self.apply(partition, missed, value)
        await self.apply(partition, offset, data)

    async def apply(self, partition: int, offset: int, data: bytes) -> None:
        """Process one bundle and make its effects durable in the safe order."""
        self.stats.bundles += 1
        result = self.processor.process(partition, offset, data)
        self.stats.packets += result.packets
        if result.error is not None:
            self.stats.failed_bundles += 1
        await self.emitter.emit(result)
        # Inside this event's iteration, so each changelog write lands in the source partition.
        self.store.put(result.touched)
        if result.outcome is not None:
            self.stats.applied += result.outcome.applied
            self.stats.duplicates += result.outcome.duplicates
            self.stats.bars += len(result.outcome.bars)
            self.stats.buckets += len(result.outcome.buckets)
        # Written last, after the states: "everything up to this offset is applied".
        self.store.mark(partition, offset)


def register_ticks_agent(app: Any, topic: Any, handler: TickHandler) -> None:
    """Declare the ``ticks`` agent on ``app``.

    Args:
        app: The Faust app.
        topic: The raw tick topic.
        handler: What each event goes through.
    """

    async def ticks(stream: Any) -> None:
        """Decode each bundle whole and apply it to the states of the instruments it touches."""
        async for event in stream.events():
            msg = event.message
            await handler.handle(msg.partition, msg.offset, event.value)

    app.agent(topic, name="ticks")(ticks)
