"""Commodity channel index, as TA-Lib ``CCI`` computes it.

Typical price ``tp = (high + low + close) / 3`` goes into a ring of ``period`` slots
(bar ``t`` at slot ``t % period``, as TA-Lib's circular buffer). Each bar (first
value at bar ``period - 1``) the mean and the mean absolute deviation are summed
over the ring *in slot order*, as TA-Lib does, so this is O(period) per bar (the
mean deviation has no O(1) update). ``CCI = (tp - mean) / (0.015 * meandev)``; if
either the numerator or the mean deviation is zero relative to ``|mean|``
(TA-Lib 0.8's scaled test, a flat window) the value is 0.0.

Block layout at ``off``: output, then the ring.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import is_zero_scaled

OUT = 0
RING = 1


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: CCI period.

    Returns:
        Slots needed.
    """
    return RING + period


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``CCI_Lookback``).

    Args:
        period: CCI period.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float, close: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the CCI block.
        period: CCI period.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    ring = off + RING
    last = (high + low + close) / 3
    st[ring + t % period] = last
    if t < period - 1:
        return
    avg = 0.0
    for j in range(period):
        avg += st[ring + j]
    avg /= period
    dev = 0.0
    for j in range(period):
        dev += abs(st[ring + j] - avg)
    dev /= period
    num = last - avg
    scale = abs(avg)
    if not is_zero_scaled(num, scale) and not is_zero_scaled(dev, scale):
        st[off + OUT] = num / (0.015 * dev)
    else:
        st[off + OUT] = 0.0
