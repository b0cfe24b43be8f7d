"""Indicator values after a closed bar, one key per indicator."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.tables.records import IndicatorUpdate


class IndicatorWriter(RedisWriter):
    """Every indicator with a value (those still warming up are not written)."""

    record = IndicatorUpdate

    def write(self, record: IndicatorUpdate, batch: RedisBatch) -> None:
        """Add one key per indicator, in name order."""
        ts_ms = record.ts_ns // 1_000_000
        for name, value in sorted(record.values.items()):
            if value is not None:
                put_indicator(self.layout, batch, record.symbol, name, value, ts_ms)
