"""Parabolic SAR, as TA-Lib ``SAR(acceleration, maximum)`` computes it.

TA-Lib's start (first value at bar 1):

* direction: short if bar 1 has a positive -DM over bar 0
  (``prev_low - low > 0`` and ``> high - prev_high``), long otherwise;
* long: ``sar = low[0]``, ``ep = high[1]``; short: ``sar = high[0]``, ``ep = low[1]``;
* on bar 1 itself the "previous bar" used for the penetration clamps is bar 1.

Then each bar: if the bar penetrates the SAR the position reverses (SAR = the old
EP clamped outside the last two bars, acceleration reset, EP = this bar's
extreme); otherwise the SAR of this bar is the projected one, the EP / acceleration
are raised on a new extreme (capped at ``maximum``), and the next SAR is
``sar + af * (ep - sar)`` clamped inside the last two bars' range. If
``acceleration > maximum`` both become ``maximum`` (TA-Lib does the same).

Block layout at ``off``: direction, af, ep, sar, last high/low, output.
"""

from __future__ import annotations

from numba import njit

IS_LONG = 0
AF = 1
EP = 2
SAR = 3
LAST_HIGH = 4
LAST_LOW = 5
OUT = 6
SIZE = 7


def lookback() -> int:
    """First bar with a value (TA-Lib ``SAR_Lookback``).

    Returns:
        1.
    """
    return 1


@njit(cache=True)
def update(st, off: int, acc: float, max_af: float, t: int, high: float, low: float) -> None:
    """Feed one bar.

    Args:
        st: State vector.
        off: Offset of the SAR block.
        acc: Acceleration factor step (and start).
        max_af: Acceleration cap.
        t: 0-based bar index.
        high: Bar high.
        low: Bar low.
    """
    if acc > max_af:
        acc = max_af
    if t == 0:
        st[off + LAST_HIGH] = high
        st[off + LAST_LOW] = low
        return
    if t == 1:
        diff_p = high - st[off + LAST_HIGH]
        diff_m = st[off + LAST_LOW] - low
        is_long = not (diff_m > 0.0 and diff_p < diff_m)
        st[off + AF] = acc
        if is_long:
            st[off + EP] = high
            st[off + SAR] = st[off + LAST_LOW]
        else:
            st[off + EP] = low
            st[off + SAR] = st[off + LAST_HIGH]
        st[off + IS_LONG] = 1.0 if is_long else 0.0
        # TA-Lib's first iteration uses bar 1 as its own previous bar.
        prev_high = high
        prev_low = low
    else:
        prev_high = st[off + LAST_HIGH]
        prev_low = st[off + LAST_LOW]
    st[off + LAST_HIGH] = high
    st[off + LAST_LOW] = low
    af = st[off + AF]
    ep = st[off + EP]
    sar = st[off + SAR]
    if st[off + IS_LONG] == 1.0:
        if low <= sar:
            # Reverse to short.
            st[off + IS_LONG] = 0.0
            sar = ep
            if sar < prev_high:
                sar = prev_high
            if sar < high:
                sar = high
            st[off + OUT] = sar
            af = acc
            ep = low
            sar = sar + af * (ep - sar)
            if sar < prev_high:
                sar = prev_high
            if sar < high:
                sar = high
        else:
            st[off + OUT] = sar
            if high > ep:
                ep = high
                af += acc
                if af > max_af:
                    af = max_af
            sar = sar + af * (ep - sar)
            if sar > prev_low:
                sar = prev_low
            if sar > low:
                sar = low
    else:
        if high >= sar:
            # Reverse to long.
            st[off + IS_LONG] = 1.0
            sar = ep
            if sar > prev_low:
                sar = prev_low
            if sar > low:
                sar = low
            st[off + OUT] = sar
            af = acc
            ep = high
            sar = sar + af * (ep - sar)
            if sar > prev_low:
                sar = prev_low
            if sar > low:
                sar = low
        else:
            st[off + OUT] = sar
            if low < ep:
                ep = low
                af += acc
                if af > max_af:
                    af = max_af
            sar = sar + af * (ep - sar)
            if sar < prev_high:
                sar = prev_high
            if sar < high:
                sar = high
    st[off + AF] = af
    st[off + EP] = ep
    st[off + SAR] = sar
