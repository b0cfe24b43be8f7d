"""Aroon up/down and the Aroon oscillator, as TA-Lib ``AROON`` and ``AROONOSC`` compute them.

The window is the last ``period + 1`` bars (today and ``period`` before it). With
``hi`` / ``lo`` the bar index of the *latest* occurrence of the highest high /
lowest low in it (TA-Lib resolves ties to the latest bar):
``up = (100 / period) * (period - (t - hi))``, ``down`` likewise with ``lo``, and
the oscillator is TA-Lib's ``(100 / period) * (hi - lo)`` (equal to up - down up to
rounding). First value at bar ``period``.

Block layout at ``off``: max/min values and indices, the three outputs, then rings of
the last ``period + 1`` highs and lows.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import window_max, window_min

HI = 0
HI_IDX = 1
LO = 2
LO_IDX = 3
UP = 4
DOWN = 5
OSC = 6
RINGS = 7


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: Aroon period.

    Returns:
        Slots including two rings of ``period + 1``.
    """
    return RINGS + 2 * (period + 1)


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``AROON_Lookback``).

    Args:
        period: Aroon period.

    Returns:
        ``period``.
    """
    return period


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the Aroon block.
        period: Aroon period.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
    """
    w = period + 1
    ring_h = off + RINGS
    ring_l = ring_h + w
    st[ring_h + t % w] = high
    st[ring_l + t % w] = low
    window_max(st, off + HI, off + HI_IDX, ring_h, w, t, high)
    window_min(st, off + LO, off + LO_IDX, ring_l, w, t, low)
    if t >= period:
        factor = 100.0 / period
        hi = st[off + HI_IDX]
        lo = st[off + LO_IDX]
        st[off + UP] = factor * (period - (t - hi))
        st[off + DOWN] = factor * (period - (t - lo))
        st[off + OSC] = factor * (hi - lo)
