"""Money flow index, as TA-Lib ``MFI`` (0.8) computes it.

Typical price ``tp = (h + l + c) / 3``; raw money flow ``tp * volume`` is positive when
``tp`` rose from the previous bar, negative when it fell, and none when the change is
zero relative to ``|tp| + |prev tp|`` (TA-Lib's scaled test). Positive and negative
flows of the last ``period`` bars are kept in a ring and as running sums
(subtract the leaving bar first, then add, TA-Lib's order). After ``period``
consecutive bars without flow the sums are reset to exactly 0.0 (TA-Lib issue #244).
``MFI = 100 * pos / (pos + neg)`` with ``pos`` clamped into ``[0, pos + neg]``; an
empty window (total not positive) gives 0.0. First value at bar ``period``.

Block layout at ``off``: previous tp, the sums, the no-flow run, output, rings.
"""

from __future__ import annotations

from numba import njit

from aion.tables.indicators.common import is_zero_scaled

PREV_TP = 0
POS = 1
NEG = 2
NULL_RUN = 3
OUT = 4
RINGS = 5


def size(period: int) -> int:
    """Block length in floats.

    Args:
        period: MFI period.

    Returns:
        Slots needed.
    """
    return RINGS + 2 * period


def lookback(period: int) -> int:
    """First bar with a value (TA-Lib ``MFI_Lookback``).

    Args:
        period: MFI period.

    Returns:
        ``period``.
    """
    return period


@njit(cache=True)
def update(
    st, off: int, period: int, t: int, high: float, low: float, close: float, volume: float
) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the MFI block.
        period: MFI period.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
        close: Bar close.
        volume: Bar volume.
    """
    tp = (high + low + close) / 3.0
    if t == 0:
        st[off + PREV_TP] = tp
        return
    ring_p = off + RINGS
    ring_n = ring_p + period
    # Flow of bar t (t >= 1) lives in slot (t - 1) % period, as TA-Lib's buffer.
    pos = (t - 1) % period
    if t > period:
        st[off + POS] -= st[ring_p + pos]
        st[off + NEG] -= st[ring_n + pos]
    prev = st[off + PREV_TP]
    diff = tp - prev
    scale = abs(tp) + abs(prev)
    st[off + PREV_TP] = tp
    flow = 0.0 if is_zero_scaled(diff, scale) else tp * volume
    pos_flow = 0.0 if diff < 0.0 else flow
    neg_flow = flow if diff < 0.0 else 0.0
    st[ring_p + pos] = pos_flow
    st[ring_n + pos] = neg_flow
    st[off + POS] += pos_flow
    st[off + NEG] += neg_flow
    run = st[off + NULL_RUN] + 1.0 if flow == 0.0 else 0.0
    if run >= period:
        run = period
        st[off + POS] = 0.0
        st[off + NEG] = 0.0
    st[off + NULL_RUN] = run
    if t >= period:
        p = st[off + POS]
        total = p + st[off + NEG]
        p = 0.0 if p < 0.0 else (total if p > total else p)
        st[off + OUT] = 0.0 if total <= 0.0 else 100.0 * (p / total)
