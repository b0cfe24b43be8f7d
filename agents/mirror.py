"""The Redis mirror: records in, the reference's documented keys out.

The writers of the output registry (``agents/outputs.py``, ``agents/writers/``) turn each
record into commands on a :class:`~aion.agents.writers.base.RedisBatch`; this module
executes batches. Writes are idempotent (HSET of whole records, a bar's sorted-set member
replaced by its score, list entries replaced by themselves) and pipelined per database.
A failed write is retried, with backoff, until Redis accepts it: the Faust mirror agents
acknowledge an event only after :meth:`RedisMirror.write` returns, so an outage delays
the mirror and never loses from it.

Idempotence across redelivery does not depend on when Faust commits: after the data,
the mirror records the source offset per topic partition in Redis
(``aion:mirror:offsets:{topic}``); the agents skip offsets at or below it and re-read a
gap above it from the topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aion.agents.outputs import OUTPUTS, OutputRegistry
from aion.agents.writers.base import RedisBatch, RedisWriter, TtlPolicy
from aion.config import KeyLayout, url_for_db
from aion.tables.records import Record

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 2.0
_RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError, RedisError)


class _Stats(Protocol):
    mirrored: int
    redis_retries: int


class RedisMirror:
    """Records -> Redis through the registry's writers.

    Args:
        url: Redis URL (the database in it is ignored: each key kind names its own DB).
        layout: The key layout.
        stats: Counters to update (``mirrored``, ``redis_retries``).
        ttl: Expiry policy (``layout`` live; ``none`` for replays and backtests).
        registry: The outputs whose writers are used.
    """

    def __init__(self, url: str, layout: KeyLayout, stats: _Stats,
                 ttl: TtlPolicy = TtlPolicy.LAYOUT,
                 registry: OutputRegistry = OUTPUTS) -> None:
        self._url = url
        self._layout = layout
        self._stats = stats
        self._ttl = ttl
        self._writers: dict[type[Record], RedisWriter] = registry.writers(layout)
        self._clients: dict[int, aioredis.Redis] = {}
        self._done: dict[tuple[str, int], int] = {}

    def _client(self, db: int) -> aioredis.Redis:
        client = self._clients.get(db)
        if client is None:
            client = aioredis.Redis.from_url(url_for_db(self._url, db), socket_timeout=5,
                                             socket_connect_timeout=5)
            self._clients[db] = client
        return client

    def plan(self, records: Iterable[Record]) -> RedisBatch:
        """The commands that mirror ``records`` (records without a writer add nothing).

        Args:
            records: Records in topic order.

        Returns:
            The batch.
        """
        batch = RedisBatch(self._ttl)
        for record in records:
            writer = self._writers.get(type(record))
            if writer is not None:
                writer.write(record, batch)
        return batch

    async def last_offset(self, topic: str, partition: int) -> int:
        """The last source offset of ``topic[partition]`` whose records Redis holds.

        Args:
            topic: Source topic.
            partition: Source partition.

        Returns:
            The offset, or -1 when none was written.
        """
        cached = self._done.get((topic, partition))
        if cached is not None:
            return cached
        key = self._layout.key("mirror_offsets", topic=topic)
        delay = 0.05
        while True:
            try:
                raw = await self._client(key.db).hget(key.name, str(partition))
                break
            except _RETRYABLE as exc:
                self._stats.redis_retries += 1
                log.warning("Redis read failed (%r); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        done = int(raw) if raw is not None else -1
        self._done[(topic, partition)] = done
        return done

    async def write(self, records: list[Record], topic: str | None = None,
                    partition: int = 0, offset: int = -1) -> None:
        """Write records, retrying until Redis accepts all of them.

        Args:
            records: Records in topic order.
            topic: Source topic; when given, its offset is recorded after the data.
            partition: Source partition.
            offset: Source offset of the records.
        """
        batch = self.plan(records)
        mark = None if topic is None else self._layout.key("mirror_offsets", topic=topic)
        if not len(batch) and mark is None:
            return
        delay = 0.05
        while True:
            try:
                await self.execute(batch)
                if mark is not None:
                    # After every database has the data: a crash in between only means
                    # the data is written again (idempotent), never that it is skipped.
                    await self._client(mark.db).hset(mark.name, str(partition), offset)
                    self._done[(topic, partition)] = offset  # type: ignore[index]
                self._stats.mirrored += len(records)
                return
            except _RETRYABLE as exc:
                # Every write is idempotent, so replaying the whole batch is safe.
                self._stats.redis_retries += 1
                log.warning("Redis write failed (%r); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def execute(self, batch: RedisBatch) -> None:
        """Run a batch: one non-transactional pipeline per database, databases in order."""
        for db, commands in sorted(batch.commands.items()):
            pipe = self._client(db).pipeline(transaction=False)
            for name, args, kwargs in commands:
                getattr(pipe, name)(*args, **kwargs)
            await pipe.execute()

    async def close(self) -> None:
        """Close the connections."""
        for client in self._clients.values():
            await client.aclose()


def forget_offsets(url: str, topic_prefix: str, layout: KeyLayout | None = None) -> int:
    """Delete the offset marks of every topic under ``topic_prefix`` (a finished run's).

    A backtest deletes its run's topics; their marks (``aion:mirror:offsets:{topic}``)
    would otherwise stay in Redis for good, one per mirrored topic per run.

    Args:
        url: Redis URL (the database comes from the layout).
        topic_prefix: Non-empty run prefix (``bt-<id>.``).
        layout: The key layout (default: ``config/redis_keys.yaml``).

    Returns:
        Keys deleted.

    Raises:
        ValueError: For an empty prefix (that would match every topic's marks).
    """
    import redis

    if not topic_prefix:
        raise ValueError("refusing to forget offsets with an empty topic prefix")
    # Glob characters in the prefix are literals, not wildcards.
    literal = "".join(f"\\{c}" if c in "*?[]\\" else c for c in topic_prefix)
    pattern = (layout or KeyLayout.load()).key("mirror_offsets", topic=f"{literal}*")
    client = redis.Redis.from_url(url_for_db(url, pattern.db))
    try:
        doomed = list(client.scan_iter(match=pattern.name, count=1000))
        return int(client.delete(*doomed)) if doomed else 0
    finally:
        client.close()
