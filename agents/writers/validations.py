"""Forward-validation windows into Redis (the reference's validator keys).

* ``forward_validation:alert:{alert_id}`` (DB 0): one field per window (``"5m"``), JSON.
* ``forward_validation:results`` (DB 0) and ``validation_results:recent`` (DB 1): the
  windows' JSON in sorted sets scored by the window's end (ms), the latest :data:`KEEP`
  kept, so the contents do not depend on the order partitions are mirrored in.
* ``pattern_performance`` (DB 3): per pattern and window, ``count``, ``success`` (windows
  of directional alerts that succeeded), ``return_sum_upct`` and ``net_return_sum_upct``
  (sums of the returns in micro-percent, integers, so they are exact in any order).
* ``signal_quality`` (DB 3): per pattern and confidence decile, on the 5-minute window,
  ``count`` and ``success``: the live calibration table.

Counters are increments: the mirror's offset marks make a redelivered message a no-op.
"""

from __future__ import annotations

import json

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.tables.records import ValidationRecord

KEEP = 1000
"""Entries kept in the recent-results lists."""

QUALITY_WINDOW_MIN = 5
"""The window ``signal_quality`` is kept on."""


class ValidationWriter(RedisWriter):
    """One closed window: per-alert hash, recent lists, performance counters."""

    record = ValidationRecord

    def write(self, record: ValidationRecord, batch: RedisBatch) -> None:
        """Add the window's keys."""
        payload = json.dumps({f: getattr(record, f) for f in record.__struct_fields__},
                             sort_keys=True)
        window = f"{record.window_min}m"
        batch.hset(self.layout.key("forward_validation_alert", alert_id=record.alert_id),
                   {window: payload})
        for kind in ("forward_validation_results", "validation_results_recent"):
            key = self.layout.key(kind)
            batch.zadd(key, payload, record.end_ms)
            batch.raw(key.db, "zremrangebyrank", key.name, 0, -(KEEP + 1))
        perf = self.layout.key("pattern_performance")
        base = f"{record.pattern}:{window}"
        batch.raw(perf.db, "hincrby", perf.name, f"{base}:count", 1)
        if record.success is not None:
            batch.raw(perf.db, "hincrby", perf.name, f"{base}:success", int(record.success))
        batch.raw(perf.db, "hincrby", perf.name, f"{base}:return_sum_upct",
                  round(record.return_pct * 1e6))
        batch.raw(perf.db, "hincrby", perf.name, f"{base}:net_return_sum_upct",
                  round(record.net_return_pct * 1e6))
        if record.window_min == QUALITY_WINDOW_MIN and record.success is not None:
            quality = self.layout.key("signal_quality")
            decile = min(int(record.confidence * 10), 9)
            batch.raw(quality.db, "hincrby", quality.name, f"{record.pattern}:c{decile}:count", 1)
            batch.raw(quality.db, "hincrby", quality.name,
                      f"{record.pattern}:c{decile}:success", int(record.success))
