"""An option-chain snapshot of one underlying (``aion.chain``)."""

from __future__ import annotations

import msgspec

from aion.tables.records.base import Record


class OptionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One option of a chain snapshot with its IV and Greeks (null with a reason).

    Attributes:
        symbol: ``NFO:...`` symbol.
        token: Instrument token.
        type: ``CE`` or ``PE``.
        strike: Strike.
        expiry: Expiry ``YYYY-MM-DD``.
        price: Last traded premium.
        oi: Open interest.
        volume: Cumulative day volume.
        event_ns: Event time of the option's last tick.
        iv: Implied volatility (None with a reason).
        delta: Delta.
        gamma: Gamma.
        theta: Theta per trading day.
        vega: Vega per vol point.
        rho: Rho per rate point.
        reason: Why the numbers are None ("" when they are numbers).
    """

    symbol: str
    token: int
    type: str
    strike: float
    expiry: str
    price: float
    oi: int
    volume: int
    event_ns: int
    iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    reason: str = ""


class ChainSnapshot(Record, frozen=True, tag="chain/1"):
    """The chain view of one underlying at a chain-time minute boundary or end of stream.

    Attributes:
        underlying: Underlying symbol (``NSE:NIFTY 50``).
        clock_ns: Chain time of the snapshot.
        final: Whether this is the end-of-stream snapshot.
        spot: The underlying's own (index or stock) last price; None while no spot tick
            was seen (then the chain may be priced off a future, see below).
        options_seen: Options the chain holds.
        pcr_oi: Put-call ratio of open interest over every expiry (None: no call OI).
        expiry: The nearest expiry (ATM, straddle, IV and skew use it).
        atm_strike: Strike nearest the underlying price.
        atm_straddle_premium: ATM call + put premium.
        straddle_volume: Strike -> combined CE + PE day volume (nearest expiry).
        atm_iv: Mean IV of the ATM call and put.
        skew: Put IV minus call IV ``skew_steps`` strikes away from ATM.
        options: Every option, by expiry, strike and type.
        underlying_source: What prices the chain (ATM and Greeks): ``"spot"``, or
            ``"future"`` (no spot ticks: the nearest-expiry future, as Black-76's
            forward) or ``"none"`` (neither seen yet).
        underlying_symbol: Symbol of that spot or future (None with ``"none"``).
        underlying_price: Its last price (None with ``"none"``).
    """

    keyed_by = "underlying"

    underlying: str
    clock_ns: int
    final: bool
    spot: float | None
    options_seen: int
    pcr_oi: float | None
    expiry: str | None
    atm_strike: float | None
    atm_straddle_premium: float | None
    straddle_volume: dict[str, int]
    atm_iv: float | None
    skew: float | None
    options: tuple[OptionRow, ...] = ()
    # Added with defaults (same tag, chain/1): payloads written before them were priced
    # off the spot.
    underlying_source: str = "spot"
    underlying_symbol: str | None = None
    underlying_price: float | None = None
