"""On-balance volume, as TA-Lib ``OBV`` computes it.

TA-Lib starts the line at the *first bar's volume* (not at 0); after that the bar's
volume is added on a higher close, subtracted on a lower one, and nothing happens on
an equal close. Value from bar 0.

Block layout at ``off``: previous close, OBV.
"""

from __future__ import annotations

from numba import njit

PREV_CLOSE = 0
VALUE = 1
SIZE = 2


def lookback() -> int:
    """First bar with a value.

    Returns:
        0.
    """
    return 0


@njit(cache=True)
def update(st, off: int, t: int, close: float, volume: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the OBV block.
        t: 0-based bar index.
        close: Bar close.
        volume: Bar volume.
    """
    if t == 0:
        st[off + VALUE] = volume
    elif close > st[off + PREV_CLOSE]:
        st[off + VALUE] += volume
    elif close < st[off + PREV_CLOSE]:
        st[off + VALUE] -= volume
    st[off + PREV_CLOSE] = close
