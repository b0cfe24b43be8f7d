"""``ohlc_updates:{symbol}``: closed bars in a sorted set scored by bar start (ms)."""

from __future__ import annotations

import json

import msgspec

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.tables.records import BarClosed


class OhlcWriter(RedisWriter):
    """A bar is a JSON member (sorted keys) at its start; a re-emitted bar replaces it."""

    record = BarClosed

    def write(self, record: BarClosed, batch: RedisBatch) -> None:
        """Add the bar's member (bars of instruments the master lacks are skipped)."""
        if not record.symbol:
            return
        key = self.layout.key("ohlc_bar", symbol=record.symbol)
        member = json.dumps(msgspec.structs.asdict(record), sort_keys=True)
        batch.zreplace(key, member, record.start_ms)
