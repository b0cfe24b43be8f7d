"""One closed forward-validation window of an alert (``aion.validations``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class ValidationRecord(Record, frozen=True, tag="validation/1"):
    """An alert's figures over one window (see ``tables.validation.forward``).

    Attributes:
        alert_id: The alert.
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        pattern: The alert's pattern.
        confidence: The alert's confidence.
        direction: +1 long, -1 short, 0 neutral.
        window_min: Window length, minutes.
        entry_ms: Entry tick's event time (the first after the alert).
        entry_price: Entry price.
        end_ms: The window's end (cut at 15:30 IST).
        exit_ms: Exit tick's event time.
        exit_price: Exit price.
        return_pct: Signed gross return, percent.
        net_return_pct: After the round-trip NSE charges, percent.
        cost: The charges, rupees.
        mfe_pct: Maximum favourable excursion, percent.
        mae_pct: Maximum adverse excursion, percent.
        first_touch: ``target``, ``stop`` or ``neither``.
        touch_ms: When it was touched.
        success: Success as the validation module defines it (None for neutral alerts).
        cut_at_close: The window was cut at 15:30.
        closed_at_session_end: Closed by the end of the data, not by a tick.
        ts_ns: Event time the result is known at.
    """

    alert_id: str
    token: int
    symbol: str
    pattern: str
    confidence: float
    direction: int
    window_min: int
    entry_ms: int
    entry_price: float
    end_ms: int
    exit_ms: int
    exit_price: float
    return_pct: float
    net_return_pct: float
    cost: float
    mfe_pct: float
    mae_pct: float
    first_touch: str
    touch_ms: int | None
    success: bool | None
    cut_at_close: bool
    closed_at_session_end: bool
    ts_ns: int
