"""``volume_averages:{EXCHANGE}_{SYMBOL}``: the reference's averages hash (DB 5)."""

from __future__ import annotations

from aion.agents.daily_history import redis_hash_fields
from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.tables.records import VolumeAverages


class VolumeAveragesWriter(RedisWriter):
    """The whole hash replaced (DEL, then HSET of every field)."""

    record = VolumeAverages

    def write(self, record: VolumeAverages, batch: RedisBatch) -> None:
        """Add the symbol's hash."""
        exchange, _, tradingsymbol = record.symbol.partition(":")
        key = self.layout.key("volume_averages", exchange=exchange, tradingsymbol=tradingsymbol)
        batch.delete(key)
        batch.hset(key, redis_hash_fields(record.values))
