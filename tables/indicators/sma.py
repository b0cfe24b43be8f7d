"""Simple moving average, as TA-Lib ``SMA`` (and ``MA`` with SMA type) computes it.

TA-Lib keeps a running total: add the new input, emit ``total / period``, then
subtract the input that leaves the window. We keep the same total in the same
order, so the values are TA-Lib's bit for bit. The leaving input comes from a
ring of the last ``period`` inputs. No value before input ``period - 1``.

Block layout at ``off``: ``TOTAL``, ``OUT``, then a ring of ``period`` inputs.
"""

from __future__ import annotations

from numba import njit

TOTAL = 0
OUT = 1
RING = 2


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: SMA period.

    Returns:
        Slots needed: total, output and the ring.
    """
    return RING + period


def lookback(period: int) -> int:
    """Index of the first input with a value (TA-Lib ``SMA_Lookback``).

    Args:
        period: SMA period.

    Returns:
        ``period - 1``.
    """
    return period - 1


@njit(cache=True)
def update(st, off: int, period: int, k_idx: int, x: float) -> float:
    """Feed one input and return the mean (meaningful once ``k_idx >= period - 1``).

    Args:
        st: State vector.
        off: Offset of this SMA's block.
        period: SMA period.
        k_idx: 0-based index of ``x`` in this SMA's own input sequence.
        x: The input.

    Returns:
        The current mean, also stored in ``st[off + OUT]``; 0.0 while warming up.
    """
    ring = off + RING
    st[ring + k_idx % period] = x
    st[off + TOTAL] += x
    if k_idx < period - 1:
        return 0.0
    out = st[off + TOTAL] / period
    # The oldest input of this window leaves before the next one arrives.
    st[off + TOTAL] -= st[ring + (k_idx + 1) % period]
    st[off + OUT] = out
    return out
