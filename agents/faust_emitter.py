"""Sends a bundle's records to their topics, as the output registry says.

Batched outputs travel as JSON arrays of about :data:`RECORD_CHUNK_BYTES`, keyed by
the source partition (one message per record would cost more than the work); the others
one message per record, keyed by :meth:`Record.key`. :meth:`FaustEmitter.emit` returns
only when the broker has every message, so the caller can then write the state: if the
worker dies in between, redelivery re-emits the same records (same ids), never fewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aion.agents.outputs import Output, OutputRegistry
from aion.agents.processor import BundleResult
from aion.agents.stats import EngineStats
from aion.tables.records import DeadLetter, Record, encode

RECORD_CHUNK_BYTES = 256 * 1024
"""Soft cap on one batched message (brokers refuse messages above ~1 MB)."""


def size_chunks(records: Sequence[Record], limit: int) -> list[bytes]:
    """Encode records and join them into JSON arrays of about ``limit`` bytes each.

    Each record is encoded once; a record larger than ``limit`` gets an array of its own.

    Args:
        records: Records, in order.
        limit: Target bytes per array.

    Returns:
        The arrays, in order (empty when there are no records).
    """
    chunks: list[list[bytes]] = []
    size = limit + 1
    for record in records:
        data = encode(record)
        if size + len(data) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(data)
        size += len(data)
    return [b"[" + b",".join(c) + b"]" for c in chunks]


class FaustEmitter:
    """The Faust path's :class:`~aion.agents.processor.Emitter`.

    Args:
        topics: Output name -> Faust topic.
        chain_inputs: The chain-input topic.
        registry: The outputs.
        stats: Counters (``emitted``, ``deadletters``, ``chain_inputs``).
    """

    def __init__(self, topics: Mapping[str, Any], chain_inputs: Any, registry: OutputRegistry,
                 stats: EngineStats) -> None:
        self.topics = topics
        self.chain_inputs = chain_inputs
        self.registry = registry
        self.stats = stats

    async def emit(self, result: BundleResult) -> None:
        """Send every record and chain input of ``result``; wait for the broker's acks."""
        groups: dict[Output, list[Record]] = {}
        for record in result.records:
            groups.setdefault(self.registry.for_record(record), []).append(record)
            if isinstance(record, DeadLetter):
                self.stats.deadletters[record.reason_group] += 1
        pending: list[Any] = []
        part_key = str(result.partition).encode()
        for output, records in groups.items():
            topic = self.topics[output.name]
            if output.batched:
                for value in size_chunks(records, RECORD_CHUNK_BYTES):
                    pending.append(await topic.send(key=part_key, value=value))
            else:
                for record in records:
                    pending.append(await topic.send(key=record.key(), value=encode(record)))
            self.stats.emitted[output.name] += len(records)
        for item in result.chain:
            # Keyed by source partition; the chain agent's group_by re-keys by underlying.
            pending.append(await self.chain_inputs.send(key=part_key, value=item.to_json()))
            self.stats.chain_inputs += 1
        if pending:
            await asyncio.gather(*pending)
