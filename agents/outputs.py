"""The output registry: every output the engine emits, in one place.

An :class:`Output` names a record type, the topic that carries it, whether records of a
bundle travel together in one message, and the Redis writer that mirrors it. Everything
that used to keep its own list is built from :data:`OUTPUTS`: topic creation, the Faust
topic declarations, the mirror agents, the backtest's stage and lag lists, the summary's
coverage, and the direct driver's Redis writes.

Adding an output is one record class (``tables/records/``), one writer
(``agents/writers/``) and one entry below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aion.agents.writers.alert_greeks import AlertGreeksWriter
from aion.agents.writers.alerts import AlertWriter
from aion.agents.writers.base import RedisWriter
from aion.agents.writers.buckets import BucketWriter
from aion.agents.writers.chain import ChainWriter
from aion.agents.writers.indicators import IndicatorWriter
from aion.agents.writers.ohlc import OhlcWriter
from aion.agents.writers.profile import ProfileWriter
from aion.agents.writers.session import SessionWriter
from aion.agents.writers.validations import ValidationWriter
from aion.agents.writers.vix import VixRegimeWriter
from aion.agents.writers.volume_averages import VolumeAveragesWriter
from aion.agents.writers.volume_ratio import VolumeRatioWriter
from aion.agents.writers.vwap import VwapWriter
from aion.config import KeyLayout
from aion.streams.topics import TopicNames
from aion.tables.records import (
    AlertGreeks,
    AlertRecord,
    BarClosed,
    BucketClosed,
    ChainSnapshot,
    DeadLetter,
    IndicatorUpdate,
    ProfileUpdate,
    Record,
    RecordCodec,
    SessionSnapshot,
    ValidationRecord,
    VixRegimeUpdate,
    VolumeAverages,
    VolumeRatio,
    VwapUpdate,
)


@dataclass(frozen=True)
class Output:
    """One output of the engine.

    Attributes:
        name: Short name (stats, summaries, the mirror agent's name).
        topic: Topic name without the run prefix (``aion.bars.1m``).
        record: The record type it carries (one type per output).
        writer: The Redis writer that mirrors it (None: not mirrored).
        batched: True: a bundle's records travel as one message (a JSON array) keyed by
            the source partition, because one message per record would cost more than
            the work (sessions, analytics). False: one message per record, keyed by
            :meth:`Record.key`.
        compacted: A compacted single-partition topic of reference data, keyed by
            :meth:`Record.key` (created with the other compacted topics by
            ``ensure_topics``, not co-partitioned with the ticks).
    """

    name: str
    topic: str
    record: type[Record]
    writer: type[RedisWriter] | None = None
    batched: bool = False
    compacted: bool = False

    def topic_name(self, names: TopicNames) -> str:
        """The topic under the run's prefix."""
        return names.topic(self.topic)


class OutputRegistry:
    """An ordered set of outputs with the lookups the engine needs.

    Args:
        outputs: The outputs (names, topics and record tags must be unique).

    Raises:
        ValueError: On a duplicate name, topic or record type.
    """

    def __init__(self, outputs: Iterable[Output]) -> None:
        self.outputs = tuple(outputs)
        for what in ("name", "topic", "record"):
            values = [getattr(o, what) for o in self.outputs]
            if len(set(values)) != len(values):
                raise ValueError(f"duplicate output {what}s in the registry")
        self._by_record = {o.record: o for o in self.outputs}
        self._by_name = {o.name: o for o in self.outputs}
        self.codec = RecordCodec(o.record for o in self.outputs)

    def __iter__(self) -> Iterator[Output]:
        return iter(self.outputs)

    def __getitem__(self, name: str) -> Output:
        return self._by_name[name]

    def extended(self, *outputs: Output) -> OutputRegistry:
        """A registry with ``outputs`` added (tests; plugins)."""
        return OutputRegistry((*self.outputs, *outputs))

    def for_record(self, record: Record) -> Output:
        """The output of a record's type.

        Raises:
            KeyError: For a record type no output carries.
        """
        try:
            return self._by_record[type(record)]
        except KeyError:
            raise KeyError(f"no output carries {type(record).__name__} records") from None

    def mirrored(self) -> list[Output]:
        """Outputs with a Redis writer (each gets a mirror agent)."""
        return [o for o in self.outputs if o.writer is not None]

    def topics(self, names: TopicNames) -> list[str]:
        """Output topics co-partitioned with the ticks, under the run's prefix.

        Compacted outputs are left out: ``ensure_topics`` creates them compacted, with
        one partition.
        """
        return [o.topic_name(names) for o in self.outputs if not o.compacted]

    def mirror_topics(self, names: TopicNames) -> list[str]:
        """The topics the Redis mirror consumes."""
        return [o.topic_name(names) for o in self.mirrored()]

    def writers(self, layout: KeyLayout) -> dict[type[Record], RedisWriter]:
        """One writer instance per mirrored record type."""
        return {o.record: o.writer(layout) for o in self.mirrored() if o.writer is not None}


OUTPUTS = OutputRegistry((
    Output("bars", "aion.bars.1m", BarClosed, OhlcWriter),
    Output("buckets", "aion.volume.buckets", BucketClosed, BucketWriter),
    Output("sessions", "aion.sessions", SessionSnapshot, SessionWriter, batched=True),
    Output("indicators", "aion.indicators", IndicatorUpdate, IndicatorWriter, batched=True),
    Output("vwap", "aion.vwap", VwapUpdate, VwapWriter, batched=True),
    Output("volume_ratios", "aion.volume.ratios", VolumeRatio, VolumeRatioWriter,
           batched=True),
    Output("vix_regime", "aion.vix.regime", VixRegimeUpdate, VixRegimeWriter),
    Output("profile", "aion.profile", ProfileUpdate, ProfileWriter, batched=True),
    Output("chain", "aion.chain", ChainSnapshot, ChainWriter),
    Output("alerts", "aion.alerts", AlertRecord, AlertWriter),
    Output("alert_greeks", "aion.alerts.greeks", AlertGreeks, AlertGreeksWriter),
    Output("validations", "aion.validations", ValidationRecord, ValidationWriter,
           batched=True),
    Output("deadletter", "aion.deadletter", DeadLetter),
    Output("volume_averages", "aion.volume.averages", VolumeAverages, VolumeAveragesWriter,
           compacted=True),
))
"""The engine's outputs."""
