"""A volume-profile snapshot (``aion.profile``, batched)."""

from __future__ import annotations

from typing import Any

from aion.tables.records.base import Record


class ProfileUpdate(Record, frozen=True, tag="profile/1"):
    """One instrument's volume profile as published (unformatted: the mirror formats).

    Rows are absolute tick indices (``price = row x tick_size``); ``volumes`` covers
    ``low .. high``. The fields are those of :class:`aion.tables.profile.ProfileSnapshot`.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        date: IST trading date of the session (None before the first tick).
        dirty_lo: Lowest row that gained volume since the previous publish (-1: none).
        dirty_hi: Highest such row.
        day: IST epoch-day of the session.
        tick_size: The instrument's tick size.
        decimals: Decimals of a price on the tick grid.
        tick_units: The tick in units of ``10 ** -decimals``.
        low: Lowest row with volume.
        high: Highest row with volume.
        volumes: Volume per row of the range.
        total_volume: Session volume.
        traded_rows: Rows holding volume.
        poc: POC row.
        poc_volume: Volume on the POC row.
        va_low: Lowest row of the value area.
        va_high: Highest row of the value area.
        va_volume: Volume inside the value area.
        strength: Volume concentration in [0, 1].
        hvn: High-volume-node rows.
        lvn: Low-volume-node rows.
        support: HVN rows below the last price, nearest first.
        resistance: HVN rows above the last price, nearest first.
        last_price: Price of the last applied tick.
        last_ts_ns: Event time of the last applied tick.
        ticks: Ticks applied this session.
        events: Profile events since the previous publish.
    """

    token: int
    symbol: str
    date: str | None
    dirty_lo: int
    dirty_hi: int
    day: int
    tick_size: float
    decimals: int
    tick_units: int
    low: int
    high: int
    volumes: list[int]
    total_volume: int
    traded_rows: int
    poc: int
    poc_volume: int
    va_low: int
    va_high: int
    va_volume: int
    strength: float
    hvn: tuple[int, ...]
    lvn: tuple[int, ...]
    support: tuple[int, ...]
    resistance: tuple[int, ...]
    last_price: float
    last_ts_ns: int
    ticks: int
    events: tuple[dict[str, Any], ...] = ()
