"""What a backtest report is built from: the run's closed bars, alerts and validation windows.

Both drivers hand over the same records (the direct driver from memory, the Faust driver
read back from its ``aion.bars.1m`` / ``aion.alerts`` / ``aion.validations`` topics), but
not necessarily in the same order (a topic is read partition by partition) nor exactly
once (a restarted worker re-emits a bundle's records). So :class:`ReportData` keys every
record by its deterministic id and sorts it, which makes the report a function of the set
of records:

* a bar by ``bar_id`` (the last one read wins: a re-emitted bar overwrites itself), kept
  per instrument token in order of ``start_ms``;
* an alert by ``alert_id``, in order of ``(timestamp, alert_id)``;
* a validation window by ``(alert_id, window_min)``, in order of ``(alert_id, window_min)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aion.tables.records import AlertRecord, BarClosed, Record, ValidationRecord

REPORT_RECORD_TYPES: tuple[type[Record], ...] = (BarClosed, AlertRecord, ValidationRecord)
"""The record types a report reads (others are ignored)."""

REPORT_OUTPUTS: tuple[str, ...] = ("bars", "alerts", "validations")
"""Their outputs' names in ``agents.outputs.OUTPUTS`` (what the Faust driver reads back)."""


@dataclass(frozen=True)
class ReportData:
    """The deduplicated, ordered inputs of a report.

    Attributes:
        bars: Closed 1-minute bars per instrument token, by start time.
        alerts: Alerts by event time, then id.
        validations: Validation windows per alert id, shortest window first.
    """

    bars: dict[int, tuple[BarClosed, ...]] = field(default_factory=dict)
    alerts: tuple[AlertRecord, ...] = ()
    validations: dict[str, tuple[ValidationRecord, ...]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> ReportData:
        """Collect bars, alerts and validation windows from any mix of output records.

        Args:
            records: Output records in any order, repeats allowed (module docstring).

        Returns:
            The report's inputs.
        """
        bars: dict[str, BarClosed] = {}
        alerts: dict[str, AlertRecord] = {}
        windows: dict[tuple[str, int], ValidationRecord] = {}
        for rec in records:
            if isinstance(rec, BarClosed):
                bars[rec.bar_id] = rec
            elif isinstance(rec, AlertRecord):
                alerts[rec.alert_id] = rec
            elif isinstance(rec, ValidationRecord):
                windows[(rec.alert_id, rec.window_min)] = rec
        by_token: dict[int, list[BarClosed]] = {}
        for bar in bars.values():
            by_token.setdefault(bar.token, []).append(bar)
        by_alert: dict[str, list[ValidationRecord]] = {}
        for key in sorted(windows):
            by_alert.setdefault(key[0], []).append(windows[key])
        return cls(
            bars={t: tuple(sorted(b, key=lambda x: x.start_ms))
                  for t, b in sorted(by_token.items())},
            alerts=tuple(sorted(alerts.values(), key=lambda a: (a.timestamp, a.alert_id))),
            validations={k: tuple(v) for k, v in by_alert.items()},
        )

    def windows(self) -> Iterable[ValidationRecord]:
        """Every validation window, by alert id then window length."""
        for recs in self.validations.values():
            yield from recs

    def top_instruments(self, n: int) -> list[int]:
        """The ``n`` instrument tokens with the most alerts.

        Args:
            n: How many (0: none).

        Returns:
            Tokens, most alerts first; ties by symbol, then token.
        """
        counts: dict[int, int] = {}
        symbols: dict[int, str] = {}
        for a in self.alerts:
            counts[a.token] = counts.get(a.token, 0) + 1
            symbols[a.token] = a.symbol
        ranked = sorted(counts, key=lambda t: (-counts[t], symbols[t], t))
        return ranked[:max(n, 0)]
