"""Exponential moving average, as TA-Lib ``EMA`` computes it, one input at a time.

Seeding (TA-Lib default compatibility, unstable period 0): no value for the first
``period - 1`` inputs; the value at input ``period - 1`` is the simple mean of the
first ``period`` inputs (summed from 0.0 in input order, then divided by the
period). After that ``ema = k * x + beta * ema`` with
``beta = (period - 1) / (period + 1)``, ``k = 1 - beta`` and ``beta`` re-derived as
``1 - k`` so that ``k + beta == 1`` exactly (a flat input stays exactly on its
level). That is TA-Lib 0.8's spelling; older TA-Lib wrote ``(x - ema) * k + ema``.
TA-Lib's build may fuse the multiply-add (FMA); ours does not, so the two agree to
an ulp or two per step (the recursion is contracting, so it does not accumulate).
A period of 1 copies the input (TA-Lib's explicit arm).

Block layout at ``off``: ``VALUE`` (the running sum while seeding, then the EMA).
"""

from __future__ import annotations

from numba import njit

VALUE = 0
SIZE = 1


def lookback(period: int) -> int:
    """Index of the first input with a value (TA-Lib ``EMA_Lookback``).

    Args:
        period: EMA period.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, k_idx: int, x: float) -> None:
    """Feed one input.

    Args:
        st: State vector.
        off: Offset of this EMA's block.
        period: EMA period.
        k_idx: 0-based index of ``x`` in this EMA's own input sequence.
        x: The input.
    """
    if period == 1:
        st[off + VALUE] = x
    elif k_idx < period - 1:
        st[off + VALUE] += x
    elif k_idx == period - 1:
        st[off + VALUE] = (st[off + VALUE] + x) / period
    else:
        beta = (period - 1) / (period + 1)
        k = 1.0 - beta
        beta = 1.0 - k
        st[off + VALUE] = k * x + beta * st[off + VALUE]
