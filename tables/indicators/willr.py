"""Williams %R, as TA-Lib ``WILLR`` computes it.

Over the last ``period`` bars (first value at bar ``period - 1``):
``%R = ((highest - close) / (highest - lowest)) * -100`` in ``[-100, 0]``; a flat
window (range zero relative to ``|highest| + |lowest|``) gives 0.0, TA-Lib's
convention.

Block layout at ``off``: highest/lowest and their indices, output, then rings of the
last ``period`` highs and lows.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import is_zero_scaled, window_max, window_min

HI = 0
HI_IDX = 1
LO = 2
LO_IDX = 3
OUT = 4
RINGS = 5


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: Look-back window.

    Returns:
        Slots needed.
    """
    return RINGS + 2 * period


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``WILLR_Lookback``).

    Args:
        period: Look-back window.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, t: int, high: float, low: float, close: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the %R block.
        period: Look-back window.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
    """
    ring_h = off + RINGS
    ring_l = ring_h + period
    st[ring_h + t % period] = high
    st[ring_l + t % period] = low
    window_max(st, off + HI, off + HI_IDX, ring_h, period, t, high)
    window_min(st, off + LO, off + LO_IDX, ring_l, period, t, low)
    if t < period - 1:
        return
    highest = st[off + HI]
    lowest = st[off + LO]
    rng = highest - lowest
    if not is_zero_scaled(rng, abs(highest) + abs(lowest)):
        st[off + OUT] = ((highest - close) / rng) * -100.0
    else:
        st[off + OUT] = 0.0
