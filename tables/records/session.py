"""One instrument's session snapshot after a bundle (``aion.sessions``, batched)."""

from __future__ import annotations

from aion.tables.records.base import Record


class SessionSnapshot(Record, frozen=True, tag="session/1"):
    """The reference's ``session:{tradingsymbol}:{date}`` fields of one instrument.

    Open buckets are not carried: bucket keys are written when a bucket closes (and at
    end of stream), which keeps this record small on the hot path.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        tradingsymbol: The symbol without exchange.
        trading_date: IST trading date ``YYYY-MM-DD`` (None before the first tick).
        zerodha_cumulative_volume: Last accepted Kite cumulative volume.
        bucket_incremental_volume: Incremental volume of the last accepted tick.
        baseline_volume: Volume traded before the first observation (late start).
        last_price: Last accepted price.
        high_price: Session high.
        low_price: Session low.
        update_count: Accepted ticks this session.
        last_update: Epoch seconds of the last accepted tick's event time.
    """

    token: int
    symbol: str
    tradingsymbol: str
    trading_date: str | None
    zerodha_cumulative_volume: int
    bucket_incremental_volume: int
    baseline_volume: int
    last_price: float
    high_price: float
    low_price: float
    update_count: int
    last_update: int
