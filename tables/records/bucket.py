"""A closed volume bucket (``aion.volume.buckets``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class BucketClosed(Record, frozen=True, tag="bucket/1"):
    """One closed volume bucket of 1, 5, 10, 15, 30 or 60 minutes.

    Attributes:
        bucket_id: Deterministic id ``token:resolution:start_ms``.
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL`` (None when the master does not list it).
        tradingsymbol: The symbol without exchange (the reference's bucket keys use it).
        resolution: Bucket width in minutes.
        trading_date: IST trading date ``YYYY-MM-DD``.
        bucket_time: IST start ``HH:MM``.
        start_ms: Bucket start, epoch ms.
        bucket_incremental_volume: Incremental volume in the bucket (reference name).
        incremental_volume: The same (reference name).
        volume: The same.
        count: Ticks in the bucket.
        first_timestamp: Event time of the first tick, ISO (+05:30).
        last_timestamp: Event time of the last tick, ISO (+05:30).
        first_timestamp_ms: Event time of the first tick, epoch ms.
        last_timestamp_ms: Event time of the last tick, epoch ms.
        last_price: Price of the last tick.
    """

    keyed_by = "symbol"

    bucket_id: str
    token: int
    symbol: str | None
    tradingsymbol: str | None
    resolution: int
    trading_date: str
    bucket_time: str
    start_ms: int
    bucket_incremental_volume: int
    incremental_volume: int
    volume: int
    count: int
    first_timestamp: str
    last_timestamp: str
    first_timestamp_ms: int
    last_timestamp_ms: int
    last_price: float
