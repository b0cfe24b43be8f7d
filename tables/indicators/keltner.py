"""Keltner Channels (no TA-Lib function), by the modern (Raschke) definition.

``middle = EMA(close, ema_period)``, ``upper = middle + multiplier * ATR(atr_period)``,
``lower = middle - multiplier * ATR(atr_period)``, with the EMA and ATR exactly as
:mod:`~aion.tables.indicators.ema` and :mod:`~aion.tables.indicators.atr` (TA-Lib's
seeding). Defaults 20 / 10 / 2.0. First value once both are warm:
bar ``max(ema_period - 1, atr_period)``.

Block layout at ``off``: an EMA block, an ATR block, then upper, middle, lower.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators import atr, ema

EMA = 0
ATR = EMA + ema.SIZE
UPPER = ATR + atr.SIZE
MIDDLE = UPPER + 1
LOWER = UPPER + 2
SIZE = UPPER + 3


def lookback(ema_period: int, atr_period: int) -> int:
    """First bar with a value.

    Args:
        ema_period: Middle-line EMA period.
        atr_period: ATR period.

    Returns:
        ``max(ema_period - 1, atr_period)``.
    """
    return max(ema.lookback(ema_period), atr.lookback(atr_period))


@njit(cache=True)
def update(
    st, off: int, ema_period: int, atr_period: int, mult: float, t: int,
    high: float, low: float, close: float,
) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the Keltner block.
        ema_period: Middle-line EMA period.
        atr_period: ATR period.
        mult: ATR multiplier.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    ema.update(st, off + EMA, ema_period, t, close)
    atr.update(st, off + ATR, atr_period, t, high, low, close)
    mid = st[off + EMA + ema.VALUE]
    band = mult * st[off + ATR + atr.VALUE]
    st[off + UPPER] = mid + band
    st[off + MIDDLE] = mid
    st[off + LOWER] = mid - band
