"""A closed 1-minute bar (``aion.bars.1m``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class BarClosed(Record, frozen=True, tag="bar/1"):
    """One closed 1-minute OHLCV bar in event time.

    Attributes:
        bar_id: Deterministic id ``token:start`` (a re-emitted bar overwrites itself).
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL`` (None when the master does not list it).
        start_ms: Bar start, epoch ms.
        end_ms: Exclusive bar end, epoch ms.
        start: Bar start as ISO time in IST (+05:30).
        open: First price.
        high: Highest price.
        low: Lowest price.
        close: Last price.
        volume: Incremental volume in the bar.
        tick_count: Ticks in the bar.
        late_ticks: Ticks that arrived after the bar's minute had passed in event time.
        vwap: Volume-weighted average price of the bar (None: no volume in the bar).
        first_ts_ms: Event time of the first tick, epoch ms.
        last_ts_ms: Event time of the last tick, epoch ms.
    """

    keyed_by = "symbol"

    bar_id: str
    token: int
    symbol: str | None
    start_ms: int
    end_ms: int
    start: str
    open: float
    high: float
    low: float
    close: float
    volume: int
    tick_count: int
    late_ticks: int
    vwap: float | None
    first_ts_ms: int
    last_ts_ms: int
