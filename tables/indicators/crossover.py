"""EMA crossover signal between a fast and a slow EMA of the same set.

``relation`` is the sign of ``fast - slow`` (+1, -1, or 0 when equal). ``cross`` is
+1 on the bar where the relation turns positive after the last non-zero relation was
negative (bullish cross), -1 for the mirror (bearish), 0 otherwise. A bar where the
EMAs are exactly equal does not count as a cross by itself, so -1, 0, +1 crosses once
(on the +1 bar) and +1, 0, +1 does not cross. No value until both EMAs are warm; the
first warm bar has no previous relation, so it never crosses.

Block layout at ``off``: last non-zero relation, cross, relation.
"""

from __future__ import annotations

from numba import njit

LAST_NONZERO = 0
CROSS = 1
RELATION = 2
SIZE = 3


@njit(cache=True)
def update(st, off: int, fast_value: float, slow_value: float) -> None:
    """Feed the two EMA values of this bar (both warm).

    Args:
        st: State vector.
        off: Offset of the crossover block.
        fast_value: Fast EMA on this bar.
        slow_value: Slow EMA on this bar.
    """
    if fast_value > slow_value:
        rel = 1.0
    elif fast_value < slow_value:
        rel = -1.0
    else:
        rel = 0.0
    last = st[off + LAST_NONZERO]
    cross = 0.0
    if rel != 0.0:
        if last != 0.0 and rel != last:
            cross = rel
        st[off + LAST_NONZERO] = rel
    st[off + CROSS] = cross
    st[off + RELATION] = rel
