"""Average true range, as TA-Lib ``ATR`` computes it (Wilder's smoothing).

The true range needs a previous close, so the first one is at bar 1. The first
ATR, at bar ``period``, is the mean of the true ranges of bars ``1 .. period``
(summed from 0.0 in order). Then TA-Lib 0.8's two-coefficient Wilder step:
``atr = alpha * tr + beta * atr`` with ``beta = (period - 1) / period`` and
``alpha = 1 - beta`` (TA-Lib may fuse it into an FMA; we do not: ulp-level
agreement, not bit-level).

Block layout at ``off``: ``PREV_CLOSE``, ``VALUE``.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import true_range

PREV_CLOSE = 0
VALUE = 1
SIZE = 2


def lookback(period: int) -> int:
    """Index of the first bar with a value (TA-Lib ``ATR_Lookback``).

    Args:
        period: ATR period.

    Returns:
        ``period``.
    """
    return period


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float, close: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the ATR block.
        period: ATR period.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    if t > 0:
        tr = true_range(high, low, st[off + PREV_CLOSE])
        if t < period:
            st[off + VALUE] += tr
        elif t == period:
            st[off + VALUE] = (st[off + VALUE] + tr) / period
        else:
            beta = (period - 1) / period
            alpha = 1.0 - beta
            st[off + VALUE] = alpha * tr + beta * st[off + VALUE]
    st[off + PREV_CLOSE] = close
