"""``indicators:{symbol}:vwap``: the session VWAP."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.tables.records import VwapUpdate


class VwapWriter(RedisWriter):
    """The VWAP as a number string."""

    record = VwapUpdate

    def write(self, record: VwapUpdate, batch: RedisBatch) -> None:
        """Add the VWAP key."""
        put_indicator(self.layout, batch, record.symbol, "vwap", record.vwap,
                      record.ts_ns // 1_000_000)
