"""A closed bucket against the time-aware volume baseline (``aion.volume.ratios``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class VolumeRatio(Record, frozen=True, tag="volume_ratio/1"):
    """The volume of one closed bucket over its expected volume.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        tradingsymbol: The symbol without exchange (bucket keys use it).
        ts_ns: Event time the ratio is known at.
        resolution: Bucket width in minutes.
        start_ns: Bucket start, epoch ns.
        volume: The bucket's volume.
        expected: Expected volume from the baseline (None: no daily average).
        volume_ratio: ``volume / expected`` capped (None when there is no expectation).
        capped: Whether the cap applied.
        reason: Why there is no ratio ("" when there is one).
    """

    token: int
    symbol: str
    tradingsymbol: str
    ts_ns: int
    resolution: int
    start_ns: int
    volume: int
    expected: float | None
    volume_ratio: float | None
    capped: bool
    reason: str
