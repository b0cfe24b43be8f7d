"""Bollinger Bands, as TA-Lib ``BBANDS(period, nbdevup, nbdevdn, SMA)`` computes them.

Middle band: the :mod:`~aion.tables.indicators.sma` of the close (TA-Lib's running
total, bit for bit). Deviation: the *population* standard deviation of the same
window around that middle band. TA-Lib 0.8 computes it with a cancellation-free
variance; we sum the squared deviations over the ring (two-pass, O(period) per
bar), which is equally free of the catastrophic cancellation of the old
sum-of-squares formula at NIFTY-sized prices. A variance that is not positive gives
a deviation of 0.0. ``upper = middle + nbdevup * sd``, ``lower = middle - nbdevdn * sd``.
First value at bar ``period - 1``.

Block layout at ``off``: an SMA block (whose ring doubles as the window), then
upper and lower.
"""

from __future__ import annotations

import math

from numba import njit

from aion.tables.indicators import sma

MIDDLE = sma.OUT


def upper_off(period: int) -> int:
    """Relative offset of the upper band.

    Args:
        period: Band period.

    Returns:
        Offset after the SMA block.
    """
    return sma.size(period)


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: Band period.

    Returns:
        Slots needed.
    """
    return sma.size(period) + 2


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``BBANDS_Lookback`` for SMA).

    Args:
        period: Band period.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, dev_up: float, dev_dn: float, t: int, close: float) -> None:
    """Feed one close.

    Args:
        st: State vector.
        off: Offset of the band block.
        period: Band period.
        dev_up: Upper multiplier of the standard deviation.
        dev_dn: Lower multiplier of the standard deviation.
        t: 0-based bar index.
        close: Bar close.
    """
    mid = sma.update(st, off, period, t, close)
    if t < period - 1:
        return
    ring = off + sma.RING
    acc = 0.0
    for j in range(period):
        d = st[ring + j] - mid
        acc += d * d
    var = acc / period
    sd = math.sqrt(var) if var > 0.0 else 0.0
    up = off + sma.RING + period  # == off + upper_off(period)
    st[up] = mid + sd * dev_up
    st[up + 1] = mid - sd * dev_dn
