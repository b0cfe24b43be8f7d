"""Running the Faust worker (``aion worker``) and watching consumer lag."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from aion.config import Settings
from aion.streams.topics import TopicNames, ensure_topics, high_watermarks

log = logging.getLogger(__name__)


def run_worker(settings: Settings, bootstrap: str, redis_url: str, loglevel: str = "warn") -> None:
    """Create topics, build the app and run a Faust worker until it is stopped.

    Args:
        settings: Resolved settings.
        bootstrap: Kafka bootstrap address.
        redis_url: Redis URL for the mirror.
        loglevel: Faust log level (crit, error, warn, info, debug).
    """
    import faust

    from aion.agents.app import create_app
    from aion.agents.outputs import OUTPUTS

    names = TopicNames(settings.topic_prefix)
    asyncio.run(ensure_topics(bootstrap, names, settings.partitions,
                              int(settings.get("replicas", 1)), outputs=OUTPUTS.topics(names)))
    app = create_app(settings, bootstrap, redis_url)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # aiokafka's per-request debug calls cost ~20% of the worker when a handler lets them
    # build records; keep the client libraries at warning level unless debugging.
    if loglevel != "debug":
        for name in ("aiokafka", "faust", "mode"):
            logging.getLogger(name).setLevel(logging.WARNING)
    worker.execute_from_commandline()


async def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> dict[str, int]:
    """Per-topic lag of a consumer group: end offsets minus committed offsets.

    A partition the group never committed counts its whole end offset as lag. Committed
    offsets are read with a consumer of the group that never joins it (OffsetFetch):
    Tansu's answer to the admin client's variant of that request does not parse.

    Args:
        bootstrap: Broker address.
        group: Consumer group (the Faust app id; ``{app_id}-mirror`` for mirror workers).
        topics: Topics to measure.

    Returns:
        Topic -> total lag (missing topics are skipped).
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        lags: dict[str, int] = {}
        for topic in topics:
            parts = consumer.partitions_for_topic(topic)
            if parts is None:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic)
            if not parts:
                continue
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            ends = await high_watermarks(bootstrap, topic)
            lag = 0
            for tp in tps:
                done = await consumer.committed(tp)
                end = ends.get(tp.partition, 0)
                lag += max(end - (done if done is not None and done >= 0 else 0), 0)
            lags[topic] = lag
        return lags
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


async def end_offsets(bootstrap: str, topic: str) -> int:
    """Messages ever written to ``topic`` (sum of high watermarks; 0 when missing).

    Args:
        bootstrap: Broker address.
        topic: Topic name.

    Returns:
        Total over partitions.
    """
    return sum((await high_watermarks(bootstrap, topic)).values())
