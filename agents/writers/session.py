"""``session:{tradingsymbol}:{date}``: the reference's per-day session hash."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter, text
from aion.tables.records import SessionSnapshot

SESSION_FIELDS = ("zerodha_cumulative_volume", "bucket_incremental_volume", "last_price",
                  "high_price", "low_price", "update_count", "last_update", "baseline_volume")


class SessionWriter(RedisWriter):
    """The whole hash, rewritten after every bundle that touched the instrument."""

    record = SessionSnapshot

    def write(self, record: SessionSnapshot, batch: RedisBatch) -> None:
        """Add the session hash (nothing before the instrument's first accepted tick)."""
        if record.trading_date is None:
            return
        key = self.layout.key("session", tradingsymbol=record.tradingsymbol,
                              date=record.trading_date)
        batch.hset(key, {f: text(getattr(record, f)) for f in SESSION_FIELDS})
