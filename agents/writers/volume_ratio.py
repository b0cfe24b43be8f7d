"""Volume ratio fields on the bucket hash of the bucket they judge."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.tables.records import VolumeRatio
from aion.tables.timeutil import hhmm_ist


class VolumeRatioWriter(RedisWriter):
    """``expected_volume``, ``volume_ratio`` and its reason on the bucket hash.

    The 1-minute ratio is also the indicator ``volume_ratio`` (the reference's key).
    """

    record = VolumeRatio

    def write(self, record: VolumeRatio, batch: RedisBatch) -> None:
        """Add the ratio fields (and the 1-minute indicator)."""
        hour, minute = hhmm_ist(record.start_ns).split(":")
        key = self.layout.key("volume_bucket", resolution=record.resolution,
                              tradingsymbol=record.tradingsymbol, hour=hour, minute=minute)
        batch.hset(key, {
            "expected_volume": "" if record.expected is None else repr(float(record.expected)),
            "volume_ratio": "" if record.volume_ratio is None else repr(record.volume_ratio),
            "volume_ratio_reason": record.reason or "",
        })
        if record.resolution == 1 and record.volume_ratio is not None:
            put_indicator(self.layout, batch, record.symbol, "volume_ratio",
                          record.volume_ratio, record.ts_ns // 1_000_000)
