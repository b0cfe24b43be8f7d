"""The volume-profile keys of DB 2 (and the POC/VA indicator keys) from a profile record."""

from __future__ import annotations

import json

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.profile_payloads import (
    distribution_rows,
    publish_payloads,
    snapshot_from_record,
)
from aion.tables.records import ProfileUpdate

HISTORY_ENTRIES = 1440
"""``volume_profile:historical`` keeps the newest entries: 24 h at one per minute."""


class ProfileWriter(RedisWriter):
    """POC, session, distribution (changed rows only), nodes, patterns, history."""

    record = ProfileUpdate

    def write(self, record: ProfileUpdate, batch: RedisBatch) -> None:
        """Add every profile key of the record's symbol."""
        lay, symbol = self.layout, record.symbol
        snap = snapshot_from_record(record)
        prof = publish_payloads(snap)
        batch.hset(lay.key("volume_profile_poc", symbol=symbol), prof["poc"])
        if record.date:
            batch.hset(lay.key("volume_profile_session", symbol=symbol, date=record.date),
                       prof["session"])
            # HSET merges: only the rows that changed since the previous publish.
            rows = distribution_rows(snap, record.dirty_lo, record.dirty_hi)
            if rows:
                batch.hset(lay.key("volume_profile_distribution", symbol=symbol,
                                   date=record.date), rows)
        batch.hset(lay.key("volume_profile_nodes", symbol=symbol), prof["nodes"])
        for score, member in prof["patterns"]:
            batch.zadd(lay.key("volume_profile_patterns", symbol=symbol), member, score)
        for name, value in sorted(prof["indicators"].items()):
            # POC/VA/strength/levels also as indicators (the reference's indicator keys).
            batch.set(lay.key("indicator", symbol=symbol, name=name), value)
        entry = json.dumps(prof["historical"], sort_keys=True)
        batch.push_unique(lay.key("volume_profile_historical", symbol=symbol), entry,
                          HISTORY_ENTRIES)
