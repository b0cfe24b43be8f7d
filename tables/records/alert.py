"""An actionable alert (``aion.alerts``): a pattern hit with its risk metrics."""

from __future__ import annotations

import msgspec

from aion.tables.records.base import Record
from aion.tables.vix_prior import REASON_NO_PRIOR_VIX


class AlertRecord(Record, frozen=True, tag="alert/1"):
    """One alert, as the reference's ``alert:{alert_id}`` hash holds it.

    Attributes:
        alert_id: ``<tradingsymbol>:<pattern>:<bar start ms>`` (deterministic).
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        pattern: Pattern name (``config/patterns.yaml``).
        category: Its category.
        signal: ``BULLISH``, ``BEARISH`` or ``NEUTRAL``.
        action: ``BUY``, ``SELL`` or ``WATCH`` (neutral).
        entry_price: The price the alert is quoted at (the bar's close); validation
            enters at the first price after ``timestamp``.
        target_price: Direction-aware target.
        stop_loss: ATR stop (2N) on the side opposite the target.
        quantity: Turtle units (a multiple of ``lot_size`` for F&O).
        lot_size: Lot size (1 for cash equity and indices).
        confidence: In [0, 1].
        expected_move: Percent (1.5 means 1.5 %).
        rr_ratio: Reward over risk per unit.
        volume_ratio: The bar's relative volume, capped at 10.
        timestamp: Event time the alert is known at, epoch ms (the bar's end).
        ts_ns: The same in ns.
        bar_start_ns: Start of the bar it fired on.
        atr: The turtle N used (None while unknown).
        indicators: Indicator snapshot at the bar's close (``rsi``, ``atr``, ``vwap``, ...).
        details: Pattern-specific figures.
        vix_regime: VIX regime the volume thresholds were scaled by (``LOW``, ``NORMAL``,
            ``HIGH``, ``PANIC``), None when unknown (``aion.tables.vix_prior``).
        vix_multiplier: That regime's volume-threshold multiplier (1.0 when unknown).
        vix_basis: ISO date of the INDIA VIX close the regime comes from, or why there
            is none (``no_prior_vix``, ``vix_close_not_before_day``).
    """

    alert_id: str
    token: int
    symbol: str
    pattern: str
    category: str
    signal: str
    action: str
    entry_price: float
    target_price: float
    stop_loss: float
    quantity: int
    lot_size: int
    confidence: float
    expected_move: float
    rr_ratio: float
    volume_ratio: float
    timestamp: int
    ts_ns: int
    bar_start_ns: int
    atr: float | None = None
    indicators: dict[str, float] = msgspec.field(default_factory=dict)
    details: dict[str, object] = msgspec.field(default_factory=dict)
    vix_regime: str | None = None
    vix_multiplier: float = 1.0
    vix_basis: str = REASON_NO_PRIOR_VIX
