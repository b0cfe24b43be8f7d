"""Relative strength index, as TA-Lib ``RSI`` computes it (Wilder's smoothing).

Seeding: gains and losses of the first ``period`` changes (inputs 1 .. period) are
summed and divided by the period; the first value is at input ``period``. Then each
average is multiplied by ``period - 1``, the new gain or loss added, and the result
divided by ``period`` (TA-Lib's exact order). ``RSI = 100 * gain / (gain + loss)``.
0/0 (no change at all over the averaging) gives 0.0, TA-Lib's convention: it tests
``gain + loss > 0`` exactly (TA-Lib 0.8, issue #253).

Block layout at ``off``: ``PREV`` (last close), ``GAIN``, ``LOSS``, ``OUT``.
"""

from __future__ import annotations

from numba import njit

PREV = 0
GAIN = 1
LOSS = 2
OUT = 3
SIZE = 4


def lookback(period: int) -> int:
    """Index of the first bar with a value (TA-Lib ``RSI_Lookback``).

    Args:
        period: RSI period.

    Returns:
        ``period``.
    """
    return period


@njit(cache=True)
def update(st, off: int, period: int, t: int, close: float) -> None:
    """Feed one close.

    Args:
        st: State vector.
        off: Offset of the RSI block.
        period: RSI period.
        t: 0-based bar index.
        close: Bar close.
    """
    if t == 0:
        st[off + PREV] = close
        return
    d = close - st[off + PREV]
    st[off + PREV] = close
    gain = st[off + GAIN]
    loss = st[off + LOSS]
    if t > period:
        loss *= period - 1
        gain *= period - 1
    if d < 0.0:
        loss -= d
    else:
        gain += d
    if t >= period:
        loss /= period
        gain /= period
        total = gain + loss
        st[off + OUT] = 100.0 * (gain / total) if total > 0.0 else 0.0
    st[off + GAIN] = gain
    st[off + LOSS] = loss
