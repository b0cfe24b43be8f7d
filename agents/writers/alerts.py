"""Alerts to Redis: ``alert:{alert_id}`` (DB 0); ``alerts:stream``, ``patterns:*`` (DB 1)."""

from __future__ import annotations

import json

from aion.agents.writers.base import RedisBatch, RedisWriter, text
from aion.tables.records import AlertRecord

STREAM_MAXLEN = 10_000
"""Approximate length ``alerts:stream`` is trimmed to (``XADD MAXLEN ~``)."""

_FIELDS = ("alert_id", "symbol", "pattern", "category", "signal", "action", "entry_price",
           "target_price", "stop_loss", "quantity", "lot_size", "confidence",
           "expected_move", "rr_ratio", "volume_ratio", "timestamp", "atr", "vix_regime",
           "vix_multiplier", "vix_basis")


class AlertWriter(RedisWriter):
    """The actionable fields as a hash, a stream entry and the symbol's latest hit.

    Scalars are written as text (``""`` for None); the indicator snapshot and the
    pattern's details as JSON under ``indicators`` and ``details``.
    """

    record = AlertRecord

    def write(self, record: AlertRecord, batch: RedisBatch) -> None:
        """Add the alert's keys."""
        fields = {name: text(getattr(record, name)) for name in _FIELDS}
        fields["indicators"] = json.dumps(record.indicators, sort_keys=True)
        fields["details"] = json.dumps(record.details, sort_keys=True)
        batch.hset(self.layout.key("alert", alert_id=record.alert_id), fields)
        stream = self.layout.key("alerts_stream")
        batch.raw(stream.db, "xadd", stream.name, fields, maxlen=STREAM_MAXLEN,
                  approximate=True)
        hit = {k: fields[k] for k in ("alert_id", "signal", "confidence", "entry_price",
                                      "expected_move", "timestamp")}
        batch.hset(self.layout.key("patterns", symbol=record.symbol),
                   {record.pattern: json.dumps(hit, sort_keys=True)})
