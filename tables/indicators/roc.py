"""Rate of change in percent, as TA-Lib ``ROC`` computes it.

``ROC = ((close / close[t - period]) - 1) * 100`` from bar ``period`` on; a zero
reference close gives 0.0 (TA-Lib's convention).

Block layout at ``off``: output, then a ring of the last ``period + 1`` closes.
"""

from __future__ import annotations

from numba import njit

OUT = 0
RING = 1


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: ROC period.

    Returns:
        Slots needed.
    """
    return RING + period + 1


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``ROC_Lookback``).

    Args:
        period: ROC period.

    Returns:
        ``period``.
    """
    return period


@njit(cache=True)
def update(st, off: int, period: int, t: int, close: float) -> None:
    """Feed one close.

    Args:
        st: State vector.
        off: Offset of the ROC block.
        period: ROC period.
        t: 0-based bar index.
        close: Bar close.
    """
    w = period + 1
    ring = off + RING
    st[ring + t % w] = close
    if t < period:
        return
    ref = st[ring + (t - period) % w]
    st[off + OUT] = ((close / ref) - 1.0) * 100.0 if ref != 0.0 else 0.0
