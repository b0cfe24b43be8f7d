"""MACD line, signal and histogram, as TA-Lib ``MACD(fast, slow, signal)`` computes them.

TA-Lib's own seeding, which differs from three independent EMAs:

* the slow EMA is seeded, at input ``slow - 1``, with the mean of inputs ``0 .. slow-1``;
* the fast EMA is seeded on the *same* bar with the mean of the last ``fast`` of
  those inputs (``slow - fast .. slow - 1``), not with the first ``fast`` inputs;
* both then follow the :mod:`~aion.tables.indicators.ema` recursion;
* the MACD line (fast - slow) exists from input ``slow - 1``; the signal is an EMA of
  that line seeded with the mean of its first ``signal`` values, so the first
  output is at input ``slow + signal - 2`` (TA-Lib ``MACD_Lookback``);
* histogram = macd - signal. If ``fast > slow`` TA-Lib swaps them; the params do too.

Block layout at ``off``: ``FAST``, ``SLOW``, ``SIGNAL`` (EMA blocks), ``MACD``, ``HIST``.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators import ema

FAST = 0
SLOW = 1
SIGNAL = 2
MACD = 3
HIST = 4
SIZE = 5


def lookback(fast: int, slow: int, signal: int) -> int:
    """Index of the first bar with all three outputs.

    Args:
        fast: Fast EMA period.
        slow: Slow EMA period.
        signal: Signal EMA period.

    Returns:
        ``max(fast, slow) - 1 + signal - 1``.
    """
    return max(fast, slow) - 1 + signal - 1


@njit(cache=True)
def update(st, off: int, fast: int, slow: int, signal: int, t: int, close: float) -> None:
    """Feed one close.

    Args:
        st: State vector.
        off: Offset of the MACD block.
        fast: Fast period (``<= slow``; the params swap them otherwise).
        slow: Slow period.
        signal: Signal period.
        t: 0-based bar index.
        close: Bar close.
    """
    ema.update(st, off + SLOW, slow, t, close)
    lead = slow - fast
    if t >= lead:
        # The fast seed window is the tail of the slow one (TA-Lib's convention).
        ema.update(st, off + FAST, fast, t - lead, close)
    if t >= slow - 1:
        line = st[off + FAST] - st[off + SLOW]
        st[off + MACD] = line
        ema.update(st, off + SIGNAL, signal, t - (slow - 1), line)
        st[off + HIST] = line - st[off + SIGNAL]
