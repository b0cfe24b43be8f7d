"""The direct driver: the same ``tables/`` code over a session file, without Kafka.

It cuts the file into bundles exactly as a replay does (:func:`iter_bundles`), numbers
them as a fresh topic would (offset = bundle index within its partition, the end-of-stream
marker last), and applies each with :func:`apply_bundle`. The Faust path must end with the
same states and bars (tests/integration/test_parity.py).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aion.agents.context import build_context
from aion.streams.batch import ERROR_REASONS
from aion.streams.bundle import decode_bundle_batch, partition_for_token
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import iter_bundles
from aion.tables.analytics import AnalyticsConfig
from aion.tables.bars import Bar
from aion.tables.chain import ChainParams, ChainState, offer
from aion.tables.engine import END_OF_STREAM_NS, Reject, apply_bundle, flush_states
from aion.tables.expiry import TradingCalendar
from aion.tables.instrument_state import InstrumentState
from aion.tables.volume import BucketRecord


@dataclass
class DirectResult:
    """Everything a direct run produced."""

    states: dict[int, InstrumentState] = field(default_factory=dict)
    bars: list[Bar] = field(default_factory=list)
    buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[tuple[int, int, Reject]] = field(default_factory=list)
    analytics: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    chains: dict[str, ChainState] = field(default_factory=dict)
    chain_snapshots: list[dict[str, Any]] = field(default_factory=list)
    packets: int = 0
    bundles: int = 0
    applied: int = 0
    seconds: float = 0.0
    decode_seconds: float = 0.0

    @property
    def reject_counts(self) -> Counter[str]:
        """Dead letters by reason (prefix before ``:``)."""
        return Counter(r.reason.split(":")[0] for _, _, r in self.rejects)


def run_direct(
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
) -> DirectResult:
    """Run a session file through the engine in-process.

    Args:
        path: Session Parquet file.
        master: Instrument master (unknown tokens are dead letters, as in the agent).
        partitions: Partition count of the simulated topic.
        bundle_packets: Packets per bundle.
        progress: Called with packets read.
        averages: Volume averages by symbol (for volume ratios).
        config: Analytics parameters (defaults if None).
        chain_params: Option-chain parameters (defaults if None).
        calendar: NSE trading calendar (the bundled one if None).

    Returns:
        Final states, closed bars and buckets, analytics, chains, rejects with their
        (partition, offset).
    """
    from aion.config.nse_calendar import NseCalendar

    out = DirectResult()
    offsets = dict.fromkeys(range(partitions), 0)
    known_tokens = {i.instrument_token for i in master}
    context = build_context(master, averages or {}, partitions, config or AnalyticsConfig())
    chain_params = chain_params or ChainParams()
    calendar = calendar or TradingCalendar(NseCalendar.load())

    def feed(items: list[Any]) -> None:
        for item in items:
            chain = out.chains.setdefault(item.underlying, ChainState(item.underlying))
            out.chain_snapshots.extend(offer(chain, item, chain_params, calendar))
    started = time.perf_counter()
    for bundle in iter_bundles(path, partitions, bundle_packets, progress=progress):
        p = bundle.partition
        t0 = time.perf_counter()
        # Round-trip through the wire format so both drivers decode the same bytes.
        rows, recv_ns = decode_bundle_batch(bundle.encode())
        out.decode_seconds += time.perf_counter() - t0
        outcome = apply_bundle(out.states.get, rows, recv_ns, p, offsets[p],
                               known=known_tokens.__contains__, error_reasons=ERROR_REASONS,
                               context=context)
        out.states.update(outcome.touched)
        out.bars.extend(outcome.bars)
        out.buckets.extend(outcome.buckets)
        out.analytics.extend(outcome.analytics.items())
        feed(outcome.chain)
        out.rejects.extend((p, offsets[p], r) for r in outcome.rejects)
        out.applied += outcome.applied
        out.packets += len(rows)
        out.bundles += 1
        offsets[p] += 1
    for p in range(partitions):
        mine = {t: s for t, s in out.states.items() if partition_for_token(t, partitions) == p}
        outcome = flush_states(mine, END_OF_STREAM_NS, context, p, offsets[p])
        out.bars.extend(outcome.bars)
        out.buckets.extend(outcome.buckets)
        out.analytics.extend(outcome.analytics.items())
        feed(outcome.chain)
    out.seconds = time.perf_counter() - started
    return out
