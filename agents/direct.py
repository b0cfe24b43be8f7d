"""The direct driver: the same engine over a session file, without Kafka.

It cuts the file into bundles exactly as a replay does (:func:`iter_bundles`), numbers
them as a fresh topic would (offset = bundle index within its partition, the end-of-stream
marker last), and applies each with the same :class:`~aion.agents.processor.BundleProcessor`
as the Faust tick agent. Given a Redis URL it writes every record through the same writers
as the mirror, so the two drivers leave the same keys
(tests/integration/test_analytics_pipeline.py holds them equal).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aion.agents.context import analytics_config, build_context
from aion.agents.outputs import OUTPUTS
from aion.agents.processor import BundleProcessor, BundleResult, DictStore, EngineError
from aion.agents.writers.base import TtlPolicy
from aion.config import Settings
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import END_MARKER, iter_bundles
from aion.tables.analytics import AnalyticsConfig
from aion.tables.bars import Bar
from aion.tables.chain import ChainParams, ChainState, offer
from aion.tables.engine import Reject
from aion.tables.expiry import TradingCalendar
from aion.tables.instrument_state import InstrumentState
from aion.tables.records import ChainSnapshot, Record
from aion.tables.volume import BucketRecord

REDIS_BATCH_RECORDS = 5000
"""Records per Redis round of the direct driver (pipelines of bounded size)."""

log = logging.getLogger(__name__)


@dataclass
class DirectResult:
    """Everything a direct run produced.

    Attributes:
        states: Final state per token.
        bars: Closed bars in emission order.
        buckets: Closed buckets in emission order.
        rejects: ``(partition, offset, reject)`` of every refused packet.
        records: Every output record in emission order (chain snapshots and dead
            letters included), as the Faust path would send them.
        chains: Final chain per underlying.
        chain_snapshots: Chain snapshots in emission order.
        packets: Packets read.
        bundles: Bundles applied (end markers excluded).
        applied: Ticks accepted.
        seconds: Wall time of decode + apply.
        redis_seconds: Wall time of the Redis writes (0 without Redis).
    """

    states: dict[int, InstrumentState] = field(default_factory=dict)
    bars: list[Bar] = field(default_factory=list)
    buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[tuple[int, int, Reject]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    chains: dict[str, ChainState] = field(default_factory=dict)
    chain_snapshots: list[ChainSnapshot] = field(default_factory=list)
    packets: int = 0
    bundles: int = 0
    applied: int = 0
    seconds: float = 0.0
    redis_seconds: float = 0.0

    @property
    def reject_counts(self) -> Counter[str]:
        """Dead letters by reason (prefix before ``:``)."""
        return Counter(r.reason.split(":")[0] for _, _, r in self.rejects)

    def outputs(self) -> dict[str, int]:
        """Records per output name (the registry's names)."""
        return dict(Counter(OUTPUTS.for_record(r).name for r in self.records))


def run_direct(path: Path, master: InstrumentMaster, **kwargs: Any) -> DirectResult:
    """Run a session file through the engine in-process (see :func:`_run_direct`).

    Runs without a rollback journal (it costs a state serialisation per touched state
    per bundle); if a bundle raises, the run starts again with it, so that bundle is
    rolled back and dead-lettered exactly as the Faust worker does.

    Args:
        path: Session Parquet file.
        master: Instrument master.
        **kwargs: The keyword arguments of :func:`_run_direct`.

    Returns:
        See :func:`_run_direct`.
    """
    try:
        return _run_direct(path, master, journal=False, **kwargs)
    except EngineError as exc:
        log.warning("%s; running again with a rollback journal", exc)
        return _run_direct(path, master, journal=True, **kwargs)


def _run_direct(
    path: Path,
    master: InstrumentMaster,
    *,
    partitions: int,
    bundle_packets: int,
    progress: Callable[[int], None] | None = None,
    averages: dict[str, dict[str, Any]] | None = None,
    config: AnalyticsConfig | None = None,
    chain_params: ChainParams | None = None,
    calendar: TradingCalendar | None = None,
    redis_url: str | None = None,
    ttl: TtlPolicy = TtlPolicy.NONE,
    journal: bool = True,
) -> DirectResult:
    """Run a session file through the engine in-process.

    Args:
        path: Session Parquet file.
        master: Instrument master (unknown tokens are dead letters, as in the agent).
        partitions: Partition count of the simulated topic.
        bundle_packets: Packets per bundle.
        progress: Called with packets read.
        averages: Volume averages by symbol (for volume ratios).
        config: Analytics parameters (if None: from the settings, as a worker builds them,
            pattern registry included).
        chain_params: Option-chain parameters (defaults if None).
        calendar: NSE trading calendar (the bundled one if None).
        redis_url: Write every record to this Redis through the mirror's writers.
        ttl: Expiry policy of those keys (default: none, results stay).
        journal: Keep a rollback journal (``processor.DictStore``).

    Returns:
        Final states, records, bars and buckets, chains, rejects with their
        (partition, offset).
    """
    from aion.config.nse_calendar import NseCalendar

    out = DirectResult()
    offsets = dict.fromkeys(range(partitions), 0)
    known_tokens = {i.instrument_token for i in master}
    if config is None:  # what a worker runs: the settings' analytics and pattern registry
        config = analytics_config(Settings.load().get)
    context = build_context(master, averages or {}, partitions, config)
    chain_params = chain_params or ChainParams()
    calendar = calendar or TradingCalendar(NseCalendar.load())
    store = DictStore(out.states, partitions, context.config, journal=journal)
    processor = BundleProcessor(store, lambda: context, known_tokens.__contains__,
                                partitions)

    def keep(result: BundleResult) -> None:
        store.put(result.touched)
        out.records.extend(result.records)
        if result.outcome is not None:
            out.bars.extend(result.outcome.bars)
            out.buckets.extend(result.outcome.buckets)
            out.applied += result.outcome.applied
            out.rejects.extend((result.partition, result.offset, r)
                               for r in result.outcome.rejects)
        for item in result.chain:
            chain = out.chains.setdefault(item.underlying, ChainState(item.underlying))
            got = offer(chain, item, chain_params, calendar)  # snapshots and alert Greeks
            out.chain_snapshots.extend(r for r in got if isinstance(r, ChainSnapshot))
            out.records.extend(got)

    if averages:
        from aion.agents.baselines import averages_records

        # Reference data first, as the Faust run publishes it before its workers start.
        out.records.extend(averages_records(averages))
    started = time.perf_counter()
    for bundle in iter_bundles(path, partitions, bundle_packets, progress=progress):
        p = bundle.partition
        # Through the wire format, so both drivers decode the same bytes.
        result = processor.process(p, offsets[p], bundle.encode())
        keep(result)
        out.packets += result.packets
        out.bundles += 1
        offsets[p] += 1
    for p in range(partitions):
        keep(processor.process(p, offsets[p], END_MARKER))
    out.seconds = time.perf_counter() - started
    if redis_url:
        t0 = time.perf_counter()
        asyncio.run(write_redis(out.records, redis_url, ttl))
        out.redis_seconds = time.perf_counter() - t0
    return out


async def write_redis(records: list[Record], redis_url: str, ttl: TtlPolicy) -> None:
    """Write records through the mirror's writers, in order, in bounded pipelines.

    Args:
        records: Records in emission order.
        redis_url: Target Redis.
        ttl: Expiry policy.
    """
    from aion.agents.mirror import RedisMirror
    from aion.agents.stats import EngineStats
    from aion.config import KeyLayout

    mirror = RedisMirror(redis_url, KeyLayout.load(), EngineStats(), ttl)
    try:
        for i in range(0, len(records), REDIS_BATCH_RECORDS):
            await mirror.write(records[i:i + REDIS_BATCH_RECORDS])
    finally:
        await mirror.close()
