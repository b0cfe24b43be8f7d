"""Volume averages out to their consumers: Redis hashes and the compacted topic.

``aion baselines build`` computes the averages (``agents.daily_history``) and hands them
here: every symbol becomes a ``volume_averages:{EXCHANGE}_{SYMBOL}`` hash in DB 5 (the
reference's key) and a record keyed by symbol on the compacted ``aion.volume.averages``
topic, from which workers load them at start and follow changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aion.agents.daily_history import redis_hash_fields
from aion.config import KeyLayout, url_for_db


async def publish_averages(bootstrap: str, topic: str,
                           averages: Mapping[str, Mapping[str, Any]]) -> int:
    """Send every symbol's averages to the compacted topic, keyed by symbol.

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
        futures = [await producer.send(topic, key=symbol.encode(),
                                       value=json.dumps(entry, sort_keys=True).encode())
                   for symbol, entry in averages.items()]
        for fut in futures:
            await fut
    finally:
        await producer.stop()
    return len(averages)


async def write_averages_redis(redis_url: str, layout: KeyLayout,
                               averages: Mapping[str, Mapping[str, Any]]) -> int:
    """Write every symbol's averages hash (whole hash replaced), pipelined.

    Args:
        redis_url: Redis URL (the DB comes from the key layout).
        layout: Key layout.
        averages: ``{symbol: entry}`` with ``EXCHANGE:TRADINGSYMBOL`` keys.

    Returns:
        Hashes written.
    """
    import redis.asyncio as aioredis

    if not averages:
        return 0
    db = layout.db("volume_averages")
    client = aioredis.Redis.from_url(url_for_db(redis_url, db))
    try:
        pipe = client.pipeline(transaction=False)
        for symbol, entry in averages.items():
            exchange, _, tradingsymbol = symbol.partition(":")
            key = layout.key("volume_averages", exchange=exchange, tradingsymbol=tradingsymbol)
            pipe.delete(key.name)
            pipe.hset(key.name, mapping=redis_hash_fields(entry))
            if key.ttl:
                pipe.expire(key.name, key.ttl)
        await pipe.execute()
    finally:
        await client.aclose()
    return len(averages)
