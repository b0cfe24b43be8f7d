"""An option alert's Greeks, merged into its ``alert:{alert_id}`` hash (DB 0)."""

from __future__ import annotations

from aion.agents.writers.base import RedisBatch, RedisWriter, text
from aion.tables.records import AlertGreeks

GREEK_FIELDS = ("iv", "delta", "gamma", "theta", "vega", "rho", "underlying_price",
                "underlying_source")
"""Fields added to the alert's hash (text, ``""`` for None), plus ``greeks_reason``."""


class AlertGreeksWriter(RedisWriter):
    """``HSET alert:{alert_id}`` with the Greeks.

    A merge into the alert's hash, so its order against the alert's own write (another
    topic, another mirror agent) does not change the final hash.
    """

    record = AlertGreeks

    def write(self, record: AlertGreeks, batch: RedisBatch) -> None:
        """Add the Greeks to the alert's hash."""
        fields = {name: text(getattr(record, name)) for name in GREEK_FIELDS}
        fields["greeks_reason"] = record.reason
        batch.hset(self.layout.key("alert", alert_id=record.alert_id), fields)
