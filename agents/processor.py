"""The bundle processor: one raw bundle in, state changes and output records out.

It is the part of the tick agent that needs no Kafka: decode the bundle (a corrupt one
becomes one dead letter), apply it with the pure engine (``tables.engine``), turn rejected
packets into dead letters with their raw bytes, and return everything as a
:class:`BundleResult`. The Faust tick agent (``agents/ticks_agent.py``) hands the result
to its :class:`Emitter` and then writes the states; the direct driver
(``agents/direct.py``) keeps the result itself. Both drive the same processor, which is
what keeps their outputs identical; ``tests/agents/test_processor.py`` drives it directly
and compares its records with the direct driver's.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from aion.streams.batch import ERROR_REASONS
from aion.streams.bundle import BundleError, decode_bundle, decode_bundle_batch, partition_for_token
from aion.tables.chain import ChainInput
from aion.tables.engine import (
    END_OF_STREAM_NS,
    BundleOutcome,
    EngineContext,
    apply_bundle,
    flush_states,
)
from aion.tables.instrument_state import InstrumentState
from aion.tables.records import DeadLetter, Record


class StateStore(Protocol):
    """Where the per-instrument states live (a Faust table, or a dict)."""

    def get(self, token: int) -> InstrumentState | None:
        """The state of ``token`` (None if never seen)."""

    def of_partition(self, partition: int) -> dict[int, InstrumentState]:
        """Every state whose token routes to ``partition``."""


@dataclass
class BundleResult:
    """What one bundle did, ready to emit.

    Attributes:
        partition: Source partition.
        offset: Source offset.
        touched: States to write back (each key once).
        records: Output records in emission order (dead letters included).
        chain: Inputs for the option chains this partition feeds.
        outcome: The engine's outcome (counters; None for a corrupt bundle).
        packets: Packets in the bundle.
    """

    partition: int
    offset: int
    touched: dict[int, InstrumentState] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    chain: list[ChainInput] = field(default_factory=list)
    outcome: BundleOutcome | None = None
    packets: int = 0


class Emitter(Protocol):
    """Receives a bundle's results from the tick agent.

    The Faust path's emitter is :class:`~aion.agents.faust_emitter.FaustEmitter`. The
    direct driver needs none: it keeps each :class:`BundleResult` in order.
    """

    async def emit(self, result: BundleResult) -> None:
        """Deliver ``result``'s records and chain inputs, durably, before state is kept."""


class BundleProcessor:
    """Decodes and applies bundles against a :class:`StateStore`.

    Args:
        store: The states.
        context: The current engine context (rebuilt when the master changes).
        known: Whether a token is in the instrument master.
        partitions: Partition count of the tick topic.
    """

    def __init__(self, store: StateStore, context: Callable[[], EngineContext],
                 known: Callable[[int], bool], partitions: int) -> None:
        self.store = store
        self.context = context
        self.known = known
        self.partitions = partitions

    def process(self, partition: int, offset: int, data: bytes) -> BundleResult:
        """Apply one bundle; an empty one is the end-of-stream marker of its partition.

        Args:
            partition: Source partition.
            offset: Source offset.
            data: The bundle's bytes.

        Returns:
            The result (a corrupt bundle: one dead letter, nothing else).
        """
        result = BundleResult(partition, offset)
        try:
            rows, recv_ns = decode_bundle_batch(data)
        except BundleError as exc:
            result.records.append(DeadLetter(
                reason=f"bad_bundle:{exc}", partition=partition, offset=offset,
                packet_b64=base64.b64encode(data).decode()))
            return result
        if len(rows) == 0:
            outcome = flush_states(self.store.of_partition(partition), END_OF_STREAM_NS,
                                   self.context(), partition, offset)
        else:
            result.packets = len(rows)
            outcome = apply_bundle(self.store.get, rows, recv_ns, partition, offset,
                                   known=self.known, error_reasons=ERROR_REASONS,
                                   context=self.context())
        result.outcome = outcome
        result.touched = outcome.touched
        result.records = outcome.records
        result.chain = outcome.chain
        if outcome.rejects:
            packets = decode_bundle(data)[0]
            result.records.extend(dead_letters(outcome, partition, offset, packets, recv_ns))
        return result


def dead_letters(outcome: BundleOutcome, partition: int, offset: int, packets: list[bytes],
                 recv_ns: np.ndarray) -> list[DeadLetter]:
    """The outcome's rejected packets as dead letters with their bytes and position.

    Args:
        outcome: The engine's outcome.
        partition: Source partition.
        offset: Source offset.
        packets: The bundle's raw packets.
        recv_ns: Their receive times.

    Returns:
        One dead letter per rejected packet, in bundle order.
    """
    return [DeadLetter(reason=r.reason, token=r.token, partition=partition, offset=offset,
                       index=r.index, recv_ns=int(recv_ns[r.index]),
                       packet_b64=base64.b64encode(packets[r.index]).decode())
            for r in outcome.rejects]


class DictStore:
    """A :class:`StateStore` over a plain dict (the direct driver, tests).

    Args:
        states: Token -> state (kept by reference).
        partitions: Partition count (for :meth:`of_partition`).
    """

    def __init__(self, states: dict[int, InstrumentState], partitions: int) -> None:
        self.states = states
        self.partitions = partitions

    def get(self, token: int) -> InstrumentState | None:
        """The state of ``token``."""
        return self.states.get(token)

    def of_partition(self, partition: int) -> dict[int, InstrumentState]:
        """States routed to ``partition``."""
        return {t: s for t, s in self.states.items()
                if partition_for_token(t, self.partitions) == partition}

    def put(self, touched: Mapping[int, InstrumentState]) -> None:
        """Keep the touched states."""
        self.states.update(touched)
