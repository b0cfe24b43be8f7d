"""Shared numba helpers of the indicator kernels: zero tests, true range, rolling extremes.

Every helper here works on the flat ``float64`` state vector of an
:class:`~aion.tables.indicators.indicator_set.IndicatorSet` (or, with
``NUMBA_DISABLE_JIT=1``, on a plain Python list), addressed by slot index, so the
per-indicator modules can compose them without allocating.
"""

from __future__ import annotations

from numba import njit

# TA-Lib 0.8's TA_EPSILON. Used only in TA-Lib's *scaled* zero test, which asks
# "is this difference zero relative to the operands' magnitude" (~90 ulp band).
TA_EPSILON = 1e-14


@njit(cache=True)
def is_zero_scaled(v: float, scale: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO_SCALED``: ``|v| <= 1e-14 * scale``.

    Args:
        v: A difference of two comparable magnitudes.
        scale: The magnitude it is judged against (usually ``|a| + |b|``).

    Returns:
        True when ``v`` is rounding residue rather than a real difference.
    """
    return abs(v) <= TA_EPSILON * scale


@njit(cache=True)
def true_range(high: float, low: float, prev_close: float) -> float:
    """Wilder's true range, in TA-Lib's operation order.

    Args:
        high: This bar's high.
        low: This bar's low.
        prev_close: The previous bar's close.

    Returns:
        ``max(high - low, |prev_close - high|, |prev_close - low|)``.
    """
    greatest = high - low
    v2 = abs(prev_close - high)
    if v2 > greatest:
        greatest = v2
    v3 = abs(prev_close - low)
    if v3 > greatest:
        greatest = v3
    return greatest


@njit(cache=True)
def window_max(st, val_slot: int, idx_slot: int, ring: int, w: int, t: int, x: float) -> None:
    """Track the highest value of the last ``w`` inputs (TA-Lib's rescan-on-expiry scheme).

    The ring at ``st[ring : ring + w]`` must already hold ``x`` at position ``t % w``.
    The extreme and the index of its *latest* occurrence are kept in
    ``st[val_slot]`` / ``st[idx_slot]``; the ring is rescanned only when that
    occurrence leaves the window, so the amortised cost is O(1).

    Args:
        st: State vector.
        val_slot: Slot of the current maximum.
        idx_slot: Slot of the bar index (as float) of its latest occurrence.
        ring: Offset of the ring of the last ``w`` inputs.
        w: Window length.
        t: Index of this input (0-based).
        x: This input.
    """
    trailing = t - w + 1
    if trailing < 0:
        trailing = 0
    if t == 0 or int(st[idx_slot]) < trailing:
        best = st[ring + trailing % w]
        best_i = trailing
        for i in range(trailing + 1, t + 1):
            v = st[ring + i % w]
            # >=: ties resolve to the latest bar, as TA-Lib's AROON does.
            if v >= best:
                best = v
                best_i = i
        st[val_slot] = best
        st[idx_slot] = best_i
    elif x >= st[val_slot]:
        st[val_slot] = x
        st[idx_slot] = t


@njit(cache=True)
def window_min(st, val_slot: int, idx_slot: int, ring: int, w: int, t: int, x: float) -> None:
    """Track the lowest value of the last ``w`` inputs; the mirror of :func:`window_max`.

    Args:
        st: State vector.
        val_slot: Slot of the current minimum.
        idx_slot: Slot of the bar index (as float) of its latest occurrence.
        ring: Offset of the ring of the last ``w`` inputs (``x`` already at ``t % w``).
        w: Window length.
        t: Index of this input (0-based).
        x: This input.
    """
    trailing = t - w + 1
    if trailing < 0:
        trailing = 0
    if t == 0 or int(st[idx_slot]) < trailing:
        best = st[ring + trailing % w]
        best_i = trailing
        for i in range(trailing + 1, t + 1):
            v = st[ring + i % w]
            if v <= best:
                best = v
                best_i = i
        st[val_slot] = best
        st[idx_slot] = best_i
    elif x <= st[val_slot]:
        st[val_slot] = x
        st[idx_slot] = t
