"""Greeks of an option alert (``aion.alerts.greeks``), merged into ``alert:{alert_id}``."""

from __future__ import annotations

from aion.tables.records.base import Record


class AlertGreeks(Record, frozen=True, tag="alert_greeks/1"):
    """IV and Greeks of an option at its alert's moment (``tables.alert_greeks``).

    Attributes:
        alert_id: The alert (``AlertRecord.alert_id``).
        token: The option's token.
        symbol: The option's ``EXCHANGE:TRADINGSYMBOL``.
        underlying: The chain's underlying symbol.
        ts_ns: The alert's event time (its bar's end).
        option_price: The premium priced (the alert's entry price).
        underlying_price: The underlying's price used (None: none seen yet).
        underlying_source: ``spot`` or ``future`` (Black-76), "" without an underlying.
        iv: Implied volatility (annual, 0.15 = 15 %), None when not computable.
        delta: dV/dS (dV/dF on a future).
        gamma: d2V/dS2.
        theta: Per day (the chain's convention, ``greeks.DEFAULT_DAYS_PER_YEAR``).
        vega: Per 1 point of volatility.
        rho: Per 1 point of rate.
        reason: Why the Greeks are None ("" when computed): the chain's reasons
            (``no_time_value``, ``expired``, ``calendar_range``, ...) or ``no_underlying``.
    """

    alert_id: str
    token: int
    symbol: str
    underlying: str
    ts_ns: int
    option_price: float
    underlying_price: float | None = None
    underlying_source: str = ""
    iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    reason: str = ""
