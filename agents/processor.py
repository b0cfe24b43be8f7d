"""The bundle processor: one raw bundle in, state changes and output records out.

It is the part of the tick agent that needs no Kafka: decode the bundle (a corrupt one
becomes one dead letter), apply it with the pure engine (``tables.engine``), turn rejected
packets into dead letters with their raw bytes, and return everything as a
:class:`BundleResult`. The Faust tick agent (``agents/ticks_agent.py``) hands the result
to its :class:`Emitter` and then writes the states; the direct driver
(``agents/direct.py``) keeps the result itself. Both drive the same processor, which is
what keeps their outputs identical; ``tests/agents/test_processor.py`` drives it directly
and compares its records with the direct driver's.

A bundle is applied atomically: an unexpected exception anywhere in the engine or the
analytics (a bug, or input no rule foresaw) leaves every state as it was before the
bundle (:meth:`StateStore.rollback`), and the whole bundle becomes one dead letter
``engine_error:<type>: <message> at <file>:<line>``, so the worker moves on instead of
crashing on the same offset forever (issue 11).
"""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from aion.streams.batch import ERROR_REASONS
from aion.streams.bundle import BundleError, decode_bundle, decode_bundle_batch, partition_for_token
from aion.tables.analytics import AnalyticsConfig
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

log = logging.getLogger(__name__)

REJECT_ENGINE_ERROR = "engine_error"
"""Dead-letter reason (group) of a bundle whose application raised."""


class EngineError(RuntimeError):
    """A bundle raised and the store keeps no rollback journal (its states are torn)."""


class StateStore(Protocol):
    """Where the per-instrument states live (a Faust table, or a dict)."""

    def get(self, token: int) -> InstrumentState | None:
        """The state of ``token`` (None if never seen)."""

    def of_partition(self, partition: int) -> dict[int, InstrumentState]:
        """Every state whose token routes to ``partition``."""

    def begin(self) -> None:
        """A bundle starts: states handed out from now on may have to be rolled back."""

    def rollback(self) -> bool:
        """The bundle failed: make every state handed out since :meth:`begin` as before.

        Returns:
            Whether it could (False: the processor raises :class:`EngineError`).
        """


@dataclass
class BundleResult:
    """What one bundle did, ready to emit.

    Attributes:
        partition: Source partition.
        offset: Source offset.
        touched: States to write back (each key once).
        records: Output records in emission order (dead letters included).
        chain: Inputs for the option chains this partition feeds.
        outcome: The engine's outcome (counters; None for a corrupt or failed bundle).
        packets: Packets in the bundle.
        error: The engine error that failed the bundle (None when it applied).
    """

    partition: int
    offset: int
    touched: dict[int, InstrumentState] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    chain: list[ChainInput] = field(default_factory=list)
    outcome: BundleOutcome | None = None
    packets: int = 0
    error: str | None = None


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
        result.packets = len(rows)
        self.store.begin()
        try:
            if len(rows) == 0:
                outcome = flush_states(self.store.of_partition(partition), END_OF_STREAM_NS,
                                       self.context(), partition, offset)
            else:
                outcome = apply_bundle(self.store.get, rows, recv_ns, partition, offset,
                                       known=self.known, error_reasons=ERROR_REASONS,
                                       context=self.context())
            if outcome.rejects:
                packets = decode_bundle(data)[0]
                letters = dead_letters(outcome, partition, offset, packets, recv_ns)
        except Exception as exc:  # any engine fault: roll back, dead-letter, go on
            if not self.store.rollback():
                raise EngineError(f"bundle {partition}/{offset}: {engine_error(exc)}") from exc
            result.error = engine_error(exc)
            log.error("bundle %d/%d failed and was dead-lettered: %s", partition, offset,
                      result.error, exc_info=exc)
            result.records.append(DeadLetter(
                reason=f"{REJECT_ENGINE_ERROR}:{result.error}", partition=partition,
                offset=offset, packet_b64=base64.b64encode(data).decode()))
            return result
        result.outcome = outcome
        result.touched = outcome.touched
        result.records = outcome.records
        result.chain = outcome.chain
        if outcome.rejects:
            result.records.extend(letters)
        return result


def engine_error(exc: BaseException) -> str:
    """An exception as one line: type, message and where it was raised.

    Args:
        exc: The exception (with its traceback).

    Returns:
        ``"<Type>: <message> at <dir>/<file>:<line>"`` (the innermost frame).
    """
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        path = Path(last.filename)
        where = f" at {path.parent.name}/{path.name}:{last.lineno}"
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}{where}"


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

    The states are mutated in place. With ``journal``, each one handed out during a
    bundle is first serialised (its changelog form) and :meth:`rollback` restores those
    bytes; that costs a ``to_bytes`` per touched state per bundle, so the direct driver
    runs without it and only reruns with it if a bundle raised (``agents/direct.py``).

    Args:
        states: Token -> state (kept by reference).
        partitions: Partition count (for :meth:`of_partition`).
        config: Analytics parameters the states are built with (for a rollback).
        journal: Keep the rollback journal.
    """

    def __init__(self, states: dict[int, InstrumentState], partitions: int,
                 config: AnalyticsConfig | None = None, *, journal: bool = True) -> None:
        self.states = states
        self.partitions = partitions
        self.config = config
        self.journal = journal
        self._before: dict[int, bytes | None] = {}

    def get(self, token: int) -> InstrumentState | None:
        """The state of ``token`` (its bytes kept for a rollback)."""
        state = self.states.get(token)
        if self.journal and token not in self._before:
            self._before[token] = None if state is None else state.to_bytes()
        return state

    def of_partition(self, partition: int) -> dict[int, InstrumentState]:
        """States routed to ``partition`` (their bytes kept for a rollback)."""
        mine = {t: s for t, s in self.states.items()
                if partition_for_token(t, self.partitions) == partition}
        if self.journal:
            for token, state in mine.items():
                self._before.setdefault(token, state.to_bytes())
        return mine

    def begin(self) -> None:
        """Forget the previous bundle's snapshots."""
        self._before.clear()

    def rollback(self) -> bool:
        """Restore every state handed out since :meth:`begin`.

        Returns:
            False without a journal (nothing restored), else True.
        """
        if not self.journal:
            return False
        for token, data in self._before.items():
            if data is None:
                self.states.pop(token, None)
            else:
                self.states[token] = InstrumentState.from_bytes(data, self.config)
        self._before.clear()
        return True

    def put(self, touched: Mapping[int, InstrumentState]) -> None:
        """Keep the touched states."""
        self.states.update(touched)
