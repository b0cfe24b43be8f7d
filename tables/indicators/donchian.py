"""Donchian Channels (no TA-Lib function; textbook definition).

``upper`` = highest high of the last ``period`` bars (this one included), ``lower`` =
lowest low, ``middle = (upper + lower) / 2``. First value at bar ``period - 1``.
Extremes are tracked with the amortised-O(1) rescan-on-expiry scheme of
:func:`~aion.tables.indicators.common.window_max`.

Block layout at ``off``: extremes and indices, middle, then rings of highs and lows.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import window_max, window_min

UPPER = 0
UPPER_IDX = 1
LOWER = 2
LOWER_IDX = 3
MIDDLE = 4
RINGS = 5


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: Channel window.

    Returns:
        Slots needed.
    """
    return RINGS + 2 * period


def lookback(period: int) -> int:
    """First bar with a value.

    Args:
        period: Channel window.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the Donchian block.
        period: Channel window.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
    """
    ring_h = off + RINGS
    ring_l = ring_h + period
    st[ring_h + t % period] = high
    st[ring_l + t % period] = low
    window_max(st, off + UPPER, off + UPPER_IDX, ring_h, period, t, high)
    window_min(st, off + LOWER, off + LOWER_IDX, ring_l, period, t, low)
    st[off + MIDDLE] = (st[off + UPPER] + st[off + LOWER]) / 2.0
