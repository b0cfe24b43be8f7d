"""Session VWAP after a bundle (``aion.vwap``, batched)."""

from __future__ import annotations

from aion.tables.records.base import Record


class VwapUpdate(Record, frozen=True, tag="vwap/1"):
    """Session VWAP of one instrument, exact over every accepted tick.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        ts_ns: Event time of the last tick included.
        vwap: Sum of price x incremental volume over the sum of incremental volume.
    """

    token: int
    symbol: str
    ts_ns: int
    vwap: float
