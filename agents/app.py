"""The Faust app, assembled from small parts (docs/architecture.md has the picture).

Topology::

    aion.ticks.raw (bundles) ─> ticks agent ─┬─> instrument-state table (changelog)
                                             ├─> every output of agents/outputs.py
                                             └─> aion.chain.inputs ─> chain agent
                                                   (group_by underlying) ─> aion.chain
    each mirrored output topic ─> its mirror agent ─> Redis (config/redis_keys.yaml)

This module only wires: the tick handler (``ticks_agent``), the chain handler
(``chain_agent``), the mirror handlers (``mirror_agents``), the web views and the
reference data (``directories``). ``worker.role`` selects what runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from aion.agents import faust_patches
from aion.agents.app_settings import ROLES, AppSettings
from aion.agents.backfill import Backfill
from aion.agents.chain_agent import CHAIN_TABLE, ChainHandler, register_chain_agent
from aion.agents.context import analytics_config
from aion.agents.directories import AveragesDirectory, InstrumentDirectory, LiveContext
from aion.agents.faust_emitter import FaustEmitter
from aion.agents.mirror import RedisMirror
from aion.agents.mirror_agents import MirrorHandler, register_mirror_agent
from aion.agents.outputs import OUTPUTS, OutputRegistry
from aion.agents.processor import BundleProcessor
from aion.agents.stats import EngineStats
from aion.agents.table_store import STATE_TABLE, TableStore
from aion.agents.ticks_agent import TickHandler, register_ticks_agent
from aion.agents.web_views import register_instrument_view, register_stats_view
from aion.config import KeyLayout, Settings
from aion.streams.topics import TopicNames
from aion.tables.chain import ChainParams
from aion.tables.expiry import TradingCalendar

__all__ = ["CHAIN_TABLE", "ROLES", "STATE_TABLE", "create_app"]

_RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
        "value_serializer": "raw"}


def _faust_app(s: AppSettings, app_id: str, bootstrap: str) -> faust.App:
    datadir = s.cache_dir / "faust" / app_id
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=s.partitions,
        topic_replication_factor=s.replicas,
        broker_session_timeout=s.session_timeout_s,
        broker_heartbeat_interval=s.heartbeat_interval_s,
        broker_rebalance_timeout=s.rebalance_timeout_s,
        broker_commit_interval=s.commit_interval_s,
        table_standby_replicas=s.table_standby_replicas,
        stream_recovery_delay=0.0,
        # On SIGTERM, do not wait for in-flight events to be acknowledged: a mirror
        # retrying an unreachable Redis never acknowledges, and the worker ignored SIGTERM
        # (for Faust's 60 s shutdown timeout). Unacknowledged events are redelivered, and
        # both the state table's partition marks and the mirror's offset marks make
        # redelivery idempotent (the same guarantee a kill -9 relies on).
        stream_wait_empty=False,
        web_enabled=s.web_enabled,
        web_bind=s.web_bind,
        web_host=s.web_host,
        web_port=s.web_port,
        # Faust's own views expose internal table keys: only when debugging.
        web_tables_enabled=s.web_debug_views,
        web_router_enabled=s.web_debug_views,
        web_graph_enabled=s.web_debug_views,
        web_stats_enabled=s.web_debug_views,
        datadir=str(datadir),
        key_serializer="raw",
        value_serializer="raw",
    )


def create_app(settings: Settings, bootstrap: str, redis_url: str,
               registry: OutputRegistry = OUTPUTS) -> faust.App:
    """Build the Faust app with its topics, tables, agents and web views.

    Args:
        settings: Resolved settings (``AppSettings`` reads and checks them).
        bootstrap: Kafka bootstrap address.
        redis_url: Redis URL for the mirror.
        registry: The outputs (tests extend it).

    Returns:
        The app, ready for ``faust.Worker``.

    Raises:
        ConfigError: For invalid worker settings (e.g. an unknown ``worker.role``).
    """
    s = AppSettings.from_settings(settings)
    faust_patches.install(bootstrap)
    names = TopicNames(s.topic_prefix)
    app_id = names.app_id(s.app_id) + ("-mirror" if s.role == "mirror" else "")
    app = _faust_app(s, app_id, bootstrap)
    topics = {o.name: app.topic(o.topic_name(names),
                                partitions=1 if o.compacted else s.partitions, **_RAW)
              for o in registry}
    stats = EngineStats()
    app.aion_stats = stats  # type: ignore[attr-defined]
    app.aion_names = names  # type: ignore[attr-defined]
    register_stats_view(app, stats)
    if s.engine:
        _engine(app, s, settings, names, bootstrap, topics, registry, stats)
    if s.mirror:
        mirror = RedisMirror(redis_url, KeyLayout.load(), stats, s.mirror_ttl, registry)
        for output in registry.mirrored():
            topic_name = output.topic_name(names)
            handler = MirrorHandler(mirror, registry, topic_name,
                                    Backfill(bootstrap, topic_name), stats)
            register_mirror_agent(app, topics[output.name], output, handler)
    return app


def _engine(app: faust.App, s: AppSettings, settings: Settings, names: TopicNames,
            bootstrap: str, topics: dict[str, Any], registry: OutputRegistry,
            stats: EngineStats) -> None:
    """The tick and chain agents, their tables, the reference data and the state view."""
    from aion.config.nse_calendar import NseCalendar

    table_types = {"key_type": bytes, "value_type": bytes}
    state = app.Table(STATE_TABLE, partitions=s.partitions, **table_types)
    chains = app.Table(CHAIN_TABLE, partitions=s.partitions, **table_types)
    directory, averages = InstrumentDirectory(), AveragesDirectory()
    asyncio.run(directory.load(bootstrap, names.instruments))
    asyncio.run(averages.load(bootstrap, names.volume_averages))
    config = analytics_config(settings.get)
    live = LiveContext(directory, averages, s.partitions, config)

    @app.task
    async def follow_instruments() -> None:
        """Keep the instrument master current while the worker runs."""
        await directory.follow(bootstrap, names.instruments)

    @app.task
    async def follow_averages() -> None:
        """Keep the volume averages current while the worker runs."""
        await averages.follow(bootstrap, names.volume_averages)

    store = TableStore(state, s.partitions, config)
    chain_inputs = app.topic(names.chain_inputs, partitions=s.partitions, **_RAW)
    emitter = FaustEmitter(topics, chain_inputs, registry, stats)
    processor = BundleProcessor(store, live.get, directory.known, s.partitions)
    ticks_topic = app.topic(names.ticks_raw, partitions=s.partitions, **_RAW)
    register_ticks_agent(app, ticks_topic, TickHandler(
        processor, store, emitter, Backfill(bootstrap, names.ticks_raw), stats))
    chain = ChainHandler(chains, topics["chain"], topics["deadletter"],
                         ChainParams.from_mapping(settings.get("chain", None)),
                         TradingCalendar(NseCalendar.load()), stats, topics["alert_greeks"])
    register_chain_agent(app, chain_inputs, names.chain_agent, chain)
    register_instrument_view(app, store)
    app.aion_tables = {"state": state, "chains": chains}  # type: ignore[attr-defined]
    app.aion_directory = directory  # type: ignore[attr-defined]
