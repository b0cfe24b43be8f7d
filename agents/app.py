"""The Faust app: the fused per-instrument agent, the Redis mirror and web views.

Topology (DESIGN.md)::

    aion.ticks.raw (bundles) ─> ticks agent ─┬─> instrument-state table (changelog)
                                             ├─> aion.bars.1m, aion.volume.buckets
                                             └─> aion.deadletter
    bars, buckets, state changelog ─> mirror agent ─> Redis (config/redis_keys.yaml)

The ticks agent handles one bundle per event and writes every touched table key once,
inside the event's iteration, so each changelog write lands in the bundle's partition.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import faust

from aion.agents import faust_patches
from aion.agents.mirror import RedisMirror
from aion.config import ConfigError, KeyLayout, Settings
from aion.streams.batch import ERROR_REASONS
from aion.streams.bundle import BundleError, decode_bundle, decode_bundle_batch, partition_for_token
from aion.streams.instruments import Instrument, InstrumentMaster
from aion.streams.topics import TopicNames
from aion.tables.analytics import AnalyticsConfig
from aion.tables.chain import ChainInput, ChainParams, ChainState, offer
from aion.tables.engine import (
    END_OF_STREAM_NS,
    BundleOutcome,
    EngineContext,
    apply_bundle,
    flush_states,
)
from aion.tables.expiry import TradingCalendar
from aion.tables.instrument_state import (
    InstrumentState,
    open_bar,
    session_fields,
)

log = logging.getLogger(__name__)

STATE_TABLE = "instrument-state"
CHAIN_TABLE = "chain-state"


def token_key(token: int) -> bytes:
    """Table/topic key of an instrument token."""
    return str(token).encode()


MARK_PREFIX = b"p:"


def mark_key(partition: int) -> bytes:
    """Table key of a source partition's "applied up to offset" mark."""
    return MARK_PREFIX + str(partition).encode()


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


@dataclass
class EngineStats:
    """Per-worker counters, shown by the ``/aion/stats/`` web view."""

    bundles: int = 0
    skipped_bundles: int = 0
    backfilled_bundles: int = 0
    packets: int = 0
    applied: int = 0
    duplicates: int = 0
    bars: int = 0
    buckets: int = 0
    deadletters: Counter[str] = field(default_factory=Counter)
    mirrored: int = 0
    mirror_backfilled: int = 0
    redis_retries: int = 0
    chain_inputs: int = 0
    chain_snapshots: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {
            "bundles": self.bundles, "skipped_bundles": self.skipped_bundles,
            "backfilled_bundles": self.backfilled_bundles,
            "packets": self.packets, "applied": self.applied,
            "duplicates": self.duplicates, "bars": self.bars, "buckets": self.buckets,
            "deadletters": dict(self.deadletters),
            "deadletters_total": sum(self.deadletters.values()),
            "mirrored": self.mirrored, "mirror_backfilled": self.mirror_backfilled,
            "redis_retries": self.redis_retries,
            "chain_inputs": self.chain_inputs, "chain_snapshots": self.chain_snapshots,
        }


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
            self.by_symbol[symbol] = json.loads(value)
        except ValueError:
            log.warning("ignoring bad averages record for %r", symbol)


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


def session_snapshot(inst: Instrument, st: InstrumentState) -> dict[str, Any]:
    """One instrument's entry in an ``aion.sessions`` record: the session hash fields.

    Open buckets are not included: bucket keys are written when a bucket closes (and at
    end of stream), which keeps this record small on the hot path.

    Args:
        inst: The instrument.
        st: Its state after a bundle.

    Returns:
        JSON-safe dict.
    """
    doc = {
        "symbol": inst.symbol,
        "tradingsymbol": inst.tradingsymbol,
        "token": st.token,
        "session": session_fields(st),
    }
    return doc


ANALYTICS_RECORD_BYTES = 256 * 1024
"""Soft cap on one ``aion.analytics`` record (brokers refuse messages above ~1 MB)."""


def size_chunks(docs: list[dict[str, Any]], limit: int) -> list[list[bytes]]:
    """Encode docs as JSON and group them into chunks of about ``limit`` bytes.

    Each doc is encoded once; a chunk is sent as ``[doc,doc,...]``. A single doc larger
    than ``limit`` gets a chunk of its own.

    Args:
        docs: JSON-safe docs, in order.
        limit: Target bytes per chunk.

    Returns:
        Chunks of encoded docs, in order (empty when there are no docs).
    """
    chunks: list[list[bytes]] = []
    size = limit + 1
    for doc in docs:
        data = json.dumps(doc, separators=(",", ":")).encode()
        if size + len(data) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(data)
        size += len(data)
    return chunks


def analytics_doc(inst: Instrument, token: int, doc: dict[str, Any]) -> dict[str, Any]:
    """One instrument's entry in an ``aion.analytics`` record.

    Args:
        inst: The instrument.
        token: Its token.
        doc: What its analytics published (``tables.analytics.update``).

    Returns:
        JSON-safe dict with the symbol names the mirror needs.
    """
    return {"symbol": inst.symbol, "tradingsymbol": inst.tradingsymbol, "token": token} | doc


ROLES = ("all", "engine", "mirror")
"""``worker.role``: everything, or the engine (tick and chain agents, their tables) and
the Redis mirror in separate processes (its own consumer group ``{app_id}-mirror``)."""


def create_app(settings: Settings, bootstrap: str, redis_url: str) -> faust.App:
    """Build the Faust app with its topics, tables, agents and web views.

    ``worker.role`` selects what runs: ``all`` (default), ``engine`` or ``mirror``.

    Args:
        settings: Resolved settings (partitions, topic prefix, worker timings, web).
        bootstrap: Kafka bootstrap address.
        redis_url: Redis URL for the mirror.

    Returns:
        The app, ready for ``faust.Worker``.
    """
    faust_patches.install(bootstrap)
    names = TopicNames(settings.topic_prefix)
    role = str(settings.get("worker.role", "all"))
    if role not in ROLES:
        raise ConfigError(f"worker.role must be one of {', '.join(ROLES)}, got {role!r}")
    engine, mirror_role = role in ("all", "engine"), role in ("all", "mirror")
    app_id = names.app_id(settings.get("app_id", "aion")) + ("-mirror" if role == "mirror"
                                                               else "")
    partitions = settings.partitions
    w = settings.get
    datadir = settings.cache_dir / "faust" / app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=partitions,
        topic_replication_factor=int(settings.get("replicas", 1)),
        broker_session_timeout=float(w("worker.session_timeout_s", 10)),
        broker_heartbeat_interval=float(w("worker.heartbeat_interval_s", 1)),
        broker_rebalance_timeout=float(w("worker.rebalance_timeout_s", 10)),
        broker_commit_interval=float(w("worker.commit_interval_s", 1.0)),
        table_standby_replicas=int(w("worker.table_standby_replicas", 0)),
        stream_recovery_delay=0.0,
        web_enabled=bool(w("web.enabled", True)),
        web_host=str(w("web.host", "127.0.0.1")),
        web_port=int(w("web.port", 6066)),
        datadir=str(datadir),
        key_serializer="raw",
        value_serializer="raw",
    )
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
           "value_serializer": "raw"}
    ticks_topic = app.topic(names.ticks_raw, partitions=partitions, **raw)
    bars_topic = app.topic(names.bars_1m, partitions=partitions, **raw)
    buckets_topic = app.topic(names.volume_buckets, partitions=partitions, **raw)
    sessions_topic = app.topic(names.sessions, partitions=partitions, **raw)
    dead_topic = app.topic(names.deadletter, partitions=partitions, **raw)
    analytics_topic = app.topic(names.analytics, partitions=partitions, **raw)
    chain_in_topic = app.topic(names.chain_inputs, partitions=partitions, **raw)
    chain_topic = app.topic(names.chain, partitions=partitions, **raw)

    stats = EngineStats()
    app.aion_stats = stats  # type: ignore[attr-defined]

    if engine:
        # Tables take their (raw) serializers from the app defaults above.
        table_types = {"key_type": bytes, "value_type": bytes}
        state = app.Table(STATE_TABLE, partitions=partitions, **table_types)
        chains = app.Table(CHAIN_TABLE, partitions=partitions, **table_types)
        backfill = Backfill(bootstrap, names.ticks_raw)
        directory = InstrumentDirectory()
        averages = AveragesDirectory()
        asyncio.run(directory.load(bootstrap, names.instruments))
        asyncio.run(averages.load(bootstrap, names.volume_averages))
        config = AnalyticsConfig.from_settings(settings.get)
        live = LiveContext(directory, averages, partitions, config)
        chain_params = ChainParams.from_mapping(settings.get("chain", None))
        from aion.config.nse_calendar import NseCalendar

        calendar = TradingCalendar(NseCalendar.load())

        @app.task
        async def follow_instruments() -> None:
            """Keep the instrument master current while the worker runs."""
            await directory.follow(bootstrap, names.instruments)

        @app.task
        async def follow_averages() -> None:
            """Keep the volume averages current while the worker runs."""
            await averages.follow(bootstrap, names.volume_averages)

        # Decoded states of the keys this worker last wrote: reused while the table still
        # holds exactly those bytes (popped on use, so a failed bundle never leaves a
        # half-applied object behind; any other value, e.g. after recovery, is decoded).
        decoded: dict[int, tuple[bytes, InstrumentState]] = {}

        def lookup(token: int) -> InstrumentState | None:
            data = state.get(token_key(token))
            hit = decoded.pop(token, None)
            if data is None:
                return None
            if hit is not None and hit[0] is data:
                return hit[1]
            return InstrumentState.from_bytes(data, config)

        async def publish(outcome: BundleOutcome, partition: int, offset: int,
                          packets: list[bytes] | None, recv_ns: Any) -> None:
            """Send a bundle's outputs, wait until the broker has them, then write state.

            Order matters for crash safety: if the worker dies after the outputs landed but
            before the state did, redelivery re-applies the bundle and re-emits outputs with
            the same ids (harmless downstream); the reverse order could lose a closed bar.
            """
            pending: list[Any] = []

            async def send(topic: Any, key: bytes, doc: Any) -> None:
                pending.append(await topic.send(
                    key=key, value=json.dumps(doc, separators=(",", ":")).encode()))

            snapshots = [session_snapshot(inst, st) for token, st in outcome.touched.items()
                         if (inst := directory.get(token)) is not None]
            if snapshots:
                # One record per bundle, not per instrument: per-message cost is the wall.
                await send(sessions_topic, str(partition).encode(), snapshots)
            docs = [analytics_doc(inst, token, doc) for token, doc in outcome.analytics.items()
                    if (inst := directory.get(token)) is not None]
            for chunk in size_chunks(docs, ANALYTICS_RECORD_BYTES):
                pending.append(await analytics_topic.send(key=str(partition).encode(),
                                                          value=b"[" + b",".join(chunk) + b"]"))
            for item in outcome.chain:
                # Keyed by source partition; the chain agent's group_by re-keys by underlying.
                pending.append(await chain_in_topic.send(key=str(partition).encode(),
                                                         value=item.to_json()))
                stats.chain_inputs += 1
            for bar in outcome.bars:
                inst = directory.get(bar.token)
                doc = bar.to_dict() | {"symbol": inst.symbol if inst else None}
                await send(bars_topic, (doc["symbol"] or str(bar.token)).encode(), doc)
            for bucket in outcome.buckets:
                inst = directory.get(bucket.token)
                doc = bucket.to_dict() | {"symbol": inst.symbol if inst else None,
                                          "tradingsymbol": inst.tradingsymbol if inst else None}
                await send(buckets_topic, (doc["symbol"] or str(bucket.token)).encode(), doc)
            for rej in outcome.rejects:
                doc = {
                    "reason": rej.reason, "token": rej.token, "partition": partition,
                    "offset": offset, "index": rej.index,
                    "recv_ns": int(recv_ns[rej.index]) if recv_ns is not None else None,
                    "packet_b64": base64.b64encode(packets[rej.index]).decode()
                    if packets is not None else None,
                }
                stats.deadletters[rej.reason.split(":")[0]] += 1
                await send(dead_topic, str(rej.token).encode(), doc)
            if pending:
                await asyncio.gather(*pending)
            # Inside this event's iteration, so each changelog write lands in the source partition.
            for token, st in outcome.touched.items():
                data = st.to_bytes()
                state[token_key(token)] = data
                decoded[token] = (data, st)
            stats.applied += outcome.applied
            stats.duplicates += outcome.duplicates
            stats.bars += len(outcome.bars)
            stats.buckets += len(outcome.buckets)

        async def handle_bundle(partition: int, offset: int, data: bytes) -> None:
            """Apply one bundle of ``partition`` at ``offset`` and publish what it produced."""
            stats.bundles += 1
            try:
                rows, recv_ns = decode_bundle_batch(data)
            except BundleError as exc:
                stats.deadletters["bad_bundle"] += 1
                fut = await dead_topic.send(key=b"bundle", value=json.dumps({
                    "reason": f"bad_bundle:{exc}", "partition": partition,
                    "offset": offset, "packet_b64": base64.b64encode(data).decode(),
                }).encode())
                await fut
            else:
                if len(rows) == 0:
                    # End-of-stream marker: close what is open in this partition.
                    mine = {}
                    for key, value in list(state.items()):
                        if key.startswith(MARK_PREFIX):
                            continue
                        token = int(key)
                        if partition_for_token(token, partitions) == partition:
                            mine[token] = InstrumentState.from_bytes(value, config)
                    await publish(flush_states(mine, END_OF_STREAM_NS, live.get(), partition,
                                               offset), partition, offset, None, None)
                else:
                    stats.packets += len(rows)
                    outcome = apply_bundle(lookup, rows, recv_ns, partition, offset,
                                           known=directory.known, error_reasons=ERROR_REASONS,
                                           context=live.get())
                    packets = decode_bundle(data)[0] if outcome.rejects else None
                    await publish(outcome, partition, offset, packets, recv_ns)
            # Written last, after the states: "everything up to this offset is applied".
            state[mark_key(partition)] = str(offset).encode()

        @app.agent(ticks_topic, name="ticks")
        async def ticks_agent(stream: faust.StreamT) -> None:
            """Decode each bundle whole and apply it to the states of the instruments it touches.

            The per-partition mark makes the agent independent of how Faust orders offset
            commits and changelog writes: a bundle at or below the mark was applied (skip
            it); a bundle beyond ``mark + 1`` means the stream was committed past what the
            restored state holds, so the missing bundles are re-read from the log first.
            """
            async for event in stream.events():
                msg = event.message
                mark = state.get(mark_key(msg.partition))
                applied = int(mark) if mark is not None else -1
                if msg.offset <= applied:
                    stats.skipped_bundles += 1
                    continue
                if msg.offset > applied + 1:
                    # Gap: on a fresh topic offsets start at 0, so anything missing is replayed.
                    for offset, data in await backfill.read(msg.partition, applied + 1,
                                                            msg.offset):
                        stats.backfilled_bundles += 1
                        await handle_bundle(msg.partition, offset, data)
                await handle_bundle(msg.partition, msg.offset, event.value)

        chain_objects: dict[bytes, tuple[bytes, ChainState]] = {}

        def underlying_key(value: bytes) -> bytes:
            return json.loads(value)["underlying"].encode()

        @app.agent(chain_in_topic, name=names.chain_agent)
        async def chain_agent(stream: faust.StreamT) -> None:
            """Option chain per underlying: re-key inputs by underlying, apply in chain time.

            ``group_by`` repartitions the inputs through an internal topic so one worker
            owns each underlying and its ``chain-state`` table entry; the chain applies
            inputs in chain-time order (``tables.chain``), so its snapshots do not depend
            on how the source partitions interleave.
            """
            async for value in stream.group_by(underlying_key, name="chain-by-underlying"):
                try:
                    item = ChainInput.from_json(value)
                except ValueError as exc:
                    stats.deadletters["bad_chain_input"] += 1
                    fut = await dead_topic.send(key=b"chain", value=json.dumps(
                        {"reason": f"bad_chain_input:{exc}"}).encode())
                    await fut
                    continue
                key = item.underlying.encode()
                raw_state = chains.get(key)
                hit = chain_objects.pop(key, None)
                if raw_state is None:
                    chain = ChainState(item.underlying)
                elif hit is not None and hit[0] is raw_state:
                    chain = hit[1]
                else:
                    chain = ChainState.from_bytes(raw_state)
                snaps = offer(chain, item, chain_params, calendar)
                futs = [await chain_topic.send(key=key, value=json.dumps(
                    snap, separators=(",", ":")).encode()) for snap in snaps]
                if futs:
                    await asyncio.gather(*futs)
                stats.chain_snapshots += len(snaps)
                data = chain.to_bytes()
                chains[key] = data
                chain_objects[key] = (data, chain)

    if mirror_role:
        mirror = RedisMirror(redis_url, KeyLayout.load(), stats)

        def mirror_agent(topic: Any, kind: str, name: str) -> None:
            """One mirror agent per source topic.

            Redis itself records the last offset written per (topic, partition), in the
            same pass as the data, so the mirror never depends on when Faust commits: an
            offset at or below it is skipped, a gap above it is re-read from the topic.
            """
            topic_name = topic.get_topic_name()
            refill = Backfill(bootstrap, topic_name)

            def records(value: bytes) -> list[tuple[str, Any]]:
                doc = json.loads(value)
                return [(kind, d) for d in doc] if kind in ("session", "analytics") \
                    else [(kind, doc)]

            async def run(stream: faust.StreamT) -> None:
                async for event in stream.events():
                    partition, offset = event.message.partition, event.message.offset
                    done = await mirror.last_offset(topic_name, partition)
                    if offset <= done:
                        continue
                    if offset > done + 1:
                        for missed, value in await refill.read(partition, done + 1, offset):
                            stats.mirror_backfilled += 1
                            await mirror.write(records(value), topic_name, partition, missed)
                    await mirror.write(records(event.value), topic_name, partition, offset)

            run.__doc__ = f"Copy {kind} records into Redis, each offset exactly once in effect."
            app.agent(topic, name=name)(run)

        mirror_agent(bars_topic, "bar", "mirror-bars")
        mirror_agent(buckets_topic, "bucket", "mirror-buckets")
        mirror_agent(sessions_topic, "session", "mirror-sessions")
        mirror_agent(analytics_topic, "analytics", "mirror-analytics")
        mirror_agent(chain_topic, "chain", "mirror-chain")

    @app.page("/aion/stats/")
    async def stats_view(web: Any, request: Any) -> Any:
        """Counters of this worker: bundles, ticks, duplicates, dead letters, mirror."""
        return web.json(stats.as_dict())

    if engine:
        @app.page("/aion/instrument/{token}/")
        async def instrument_view(web: Any, request: Any, token: str) -> Any:
            """The state of one instrument held by this worker (its partition's owner)."""
            data = state.get(token.encode())
            if data is None:
                return web.json({"error": f"token {token} not held by this worker",
                                 "partition": partition_for_token(int(token), partitions)
                                 if token.isdigit() else None}, status=404)
            st = InstrumentState.from_bytes(data, config)
            bar = open_bar(st)
            return web.json({"token": st.token, "session": session_fields(st),
                             "open_bar": bar.to_dict() if bar else None,
                             "ticks_applied": st.ticks_applied, "rejects": st.rejects})

        app.aion_tables = {"state": state, "chains": chains}  # type: ignore[attr-defined]
        app.aion_directory = directory  # type: ignore[attr-defined]
    app.aion_names = names  # type: ignore[attr-defined]
    return app
