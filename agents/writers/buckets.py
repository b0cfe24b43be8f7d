"""``volume:volume:bucket{N}:{tradingsymbol}:buckets:{HH}:{MM}``: closed volume buckets."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter, text
from aion.tables.records import BucketClosed

BUCKET_FIELDS = ("bucket_incremental_volume", "incremental_volume", "volume", "count",
                 "first_timestamp", "last_timestamp", "last_price", "bucket_id", "start_ms")
"""The hash fields: the reference's bucket fields plus the bucket's identity."""


class BucketWriter(RedisWriter):
    """One hash per closed bucket, keyed by its IST start."""

    record = BucketClosed

    def write(self, record: BucketClosed, batch: RedisBatch) -> None:
        """Add the bucket's hash (buckets of unlisted instruments are skipped)."""
        if not record.tradingsymbol:
            return
        hour, minute = record.bucket_time.split(":")
        key = self.layout.key("volume_bucket", resolution=record.resolution,
                              tradingsymbol=record.tradingsymbol, hour=hour, minute=minute)
        batch.hset(key, {f: text(getattr(record, f)) for f in BUCKET_FIELDS})
