"""Reference data every worker holds whole: the instrument master and the volume averages.

Both are compacted topics, loaded before the worker starts and tailed while it runs;
:class:`LiveContext` rebuilds the engine context when either changes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aion.streams.instruments import Instrument, InstrumentMaster
from aion.tables.analytics import AnalyticsConfig
from aion.tables.engine import EngineContext
from aion.tables.records import RecordCodec, RecordFormatError, VolumeAverages

_AVERAGES = RecordCodec([VolumeAverages])

log = logging.getLogger(__name__)


class CompactedView:
    """A whole compacted topic held in memory by every worker (a GlobalTable's semantics).

    Loaded from the topic before the worker starts, then tailed for changes. Faust's own
    GlobalTable is not used: with it the partition assignor never completes the first
    rebalance (faust-streaming #283, robinhood/faust #507), so no agent would run.
    Subclasses say what a record means in :meth:`apply`.
    """

    def __init__(self) -> None:
        self._next_offset = 0
        self.version = 0

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record (a None value is a deletion)."""
        raise NotImplementedError

    def _applied(self, key: bytes | None, value: bytes | None) -> None:
        self.apply(key, value)
        self.version += 1

    async def load(self, bootstrap: str, topic: str) -> None:
        """Read the topic from the beginning to its current end."""
        from aion.streams.topics import read_all

        records = await read_all(bootstrap, topic)
        for _, offset, key, value in records:
            self._applied(key, value)
            self._next_offset = offset + 1
        log.info("%s: %d records from %s", type(self).__name__, len(records), topic)

    async def follow(self, bootstrap: str, topic: str) -> None:
        """Tail the topic forever, applying changes (runs as a Faust task)."""
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            consumer.seek(tp, self._next_offset)
            async for rec in consumer:
                self._applied(rec.key, rec.value)
                self._next_offset = rec.offset + 1
        finally:
            await consumer.stop()


class AveragesDirectory(CompactedView):
    """Symbol -> daily volume averages, from the compacted ``aion.volume.averages`` topic."""

    def __init__(self) -> None:
        super().__init__()
        self.by_symbol: dict[str, dict[str, Any]] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one averages record (JSON entry keyed by symbol)."""
        if key is None:
            return
        symbol = key.decode()
        if value is None:
            self.by_symbol.pop(symbol, None)
            return
        try:
            rec = _AVERAGES.decode(value)
        except RecordFormatError as exc:
            log.warning("ignoring bad averages record for %r: %s", symbol, exc)
            return
        self.by_symbol[symbol] = dict(rec.values)  # type: ignore[attr-defined]


class InstrumentDirectory(CompactedView):
    """Token -> instrument, from the compacted ``aion.instruments`` topic."""

    def __init__(self) -> None:
        super().__init__()
        self._by_token: dict[int, Instrument] = {}

    def __len__(self) -> int:
        return len(self._by_token)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one compacted-topic record (a None value deletes the instrument)."""
        if key is None:
            return
        token = int(key)
        if value is None:
            self._by_token.pop(token, None)
            return
        master = InstrumentMaster.from_records([(key.decode(), json.loads(value))], strict=False)
        inst = master.get(token)
        if inst is None:
            log.warning("ignoring bad instrument record for key %r: %s", key,
                        master.rejected[0].reason if master.rejected else "?")
            return
        self._by_token[token] = inst

    def get(self, token: int) -> Instrument | None:
        """The instrument of ``token`` or None when the master does not list it."""
        return self._by_token.get(token)

    def known(self, token: int) -> bool:
        """Whether the master lists ``token``."""
        return token in self._by_token

    def instruments(self) -> list[Instrument]:
        """Every instrument, by token."""
        return [self._by_token[t] for t in sorted(self._by_token)]


class LiveContext:
    """The engine context of a worker, rebuilt when the master or the averages change."""

    def __init__(self, directory: InstrumentDirectory, averages: AveragesDirectory,
                 partitions: int, config: AnalyticsConfig) -> None:
        self._directory = directory
        self._averages = averages
        self._partitions = partitions
        self._config = config
        self._built: tuple[tuple[int, int], EngineContext] | None = None

    def get(self) -> EngineContext:
        """The context for the current master and averages."""
        from aion.agents.context import build_context

        version = (self._directory.version, self._averages.version)
        if self._built is None or self._built[0] != version:
            ctx = build_context(self._directory.instruments(), self._averages.by_symbol,
                                self._partitions, self._config)
            self._built = (version, ctx)
        return self._built[1]
