"""Volume averages out to their consumers: Redis hashes and the compacted topic.

``aion baselines build`` computes the averages (``agents.daily_history``) and hands them
here: every symbol becomes a :class:`~aion.tables.records.VolumeAverages` record keyed by
symbol on the compacted ``aion.volume.averages`` topic (an output of the registry, from
which workers load them at start and follow changes, and which the mirror writes as the
reference's ``volume_averages:{EXCHANGE}_{SYMBOL}`` hash in DB 5), and, for runs without
workers, the same hash through the same writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aion.config import KeyLayout
from aion.tables.records import VolumeAverages, encode


def averages_records(averages: Mapping[str, Mapping[str, Any]]) -> list[VolumeAverages]:
    """The averages as records, one per symbol (in the given order).

    Args:
        averages: ``{symbol: entry}`` with ``EXCHANGE:TRADINGSYMBOL`` keys.

    Returns:
        The records.
    """
    return [VolumeAverages(symbol=symbol, values=dict(entry))
            for symbol, entry in averages.items()]


async def publish_averages(bootstrap: str, topic: str,
                           averages: Mapping[str, Mapping[str, Any]]) -> int:
    """Send every symbol's averages record to the compacted topic, keyed by symbol.

    Args:
        bootstrap: Broker address.
        topic: The averages topic.
        averages: ``{symbol: entry}``.

    Returns:
        Records sent (all acknowledged by the broker).
    """
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False,
                                linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=rec.key(), value=encode(rec))
                   for rec in averages_records(averages)]
        for fut in futures:
            await fut
    finally:
        await producer.stop()
    return len(averages)


async def write_averages_redis(redis_url: str, layout: KeyLayout,
                               averages: Mapping[str, Mapping[str, Any]]) -> int:
    """Write every symbol's averages hash through the registry's writer.

    For ``aion baselines build``, which runs without workers; where workers run, their
    mirror writes the same hashes from the compacted topic.

    Args:
        redis_url: Redis URL (the DB comes from the key layout).
        layout: Key layout.
        averages: ``{symbol: entry}`` with ``EXCHANGE:TRADINGSYMBOL`` keys.

    Returns:
        Hashes written.
    """
    from aion.agents.mirror import RedisMirror
    from aion.agents.stats import EngineStats

    if not averages:
        return 0
    mirror = RedisMirror(redis_url, layout, EngineStats())
    try:
        await mirror.write(list(averages_records(averages)))
    finally:
        await mirror.close()
    return len(averages)
