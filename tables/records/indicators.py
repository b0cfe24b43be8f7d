"""Indicator values after a closed bar (``aion.indicators``, batched)."""

from __future__ import annotations

from aion.tables.records.base import Record

IndicatorValue = float | dict[str, float] | None
"""A number or a named group (``macd``: macd/signal/histogram).

None is allowed by the schema, but the engine never sends it: an indicator still warming
up is left out of ``values`` (``IndicatorSet.values``)."""


class IndicatorUpdate(Record, frozen=True, tag="indicators/1"):
    """Every indicator of one instrument after its latest closed 1-minute bar.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        ts_ns: Event time the update is known at (the bundle's last applied tick).
        bar_start_ns: Start of the bar that produced the values, epoch ns.
        values: Indicator name -> value (``tables.indicators.IndicatorSet.values``).
    """

    token: int
    symbol: str
    ts_ns: int
    bar_start_ns: int
    values: dict[str, IndicatorValue]
