"""``indicators:{VIX symbol}:vix_regime``: the current INDIA VIX regime."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.tables.records import VixRegimeUpdate


class VixRegimeWriter(RedisWriter):
    """The regime, VIX, multiplier and the last change as the JSON envelope."""

    record = VixRegimeUpdate

    def write(self, record: VixRegimeUpdate, batch: RedisBatch) -> None:
        """Add the regime key."""
        value = {"regime": record.regime, "vix": record.vix,
                 "multiplier": record.multiplier}
        if record.changed_ns is not None:
            value |= {"previous": record.previous, "changed_ns": record.changed_ns}
        put_indicator(self.layout, batch, record.symbol, "vix_regime", value,
                      record.ts_ns // 1_000_000)
