"""Causal swing points: highs and lows known only once ``length`` later bars have traded.

**Definition** (``smartmoneyconcepts``' ``swing_highs_lows(ohlc, swing_length=L)``, made
causal). Bar ``i`` is a *swing high* when its high equals the highest high of bars
``i-L+1 .. i+L`` (the ``L-1`` bars before it, itself and the ``L`` after it), a *swing
low* when its low equals the lowest low of the same bars; a bar that is both counts as a
high (the library's precedence). Consecutive swings of one kind collapse to the most
extreme of the run, the earliest on a tie, so highs and lows alternate.

**Confirmation delay.** Bar ``i``'s swing needs the ``L`` bars after it, so it becomes
known at the close of bar ``i+L`` and not before: :func:`confirm` is called on that bar
with the ``2L`` bars ``i-L+1 .. i+L`` and the collapse rule runs on the swings known so
far (a new high replaces a lower high still last in the list, and is dropped otherwise).
The library applies the same rules to the whole series at once, reading the future; its
output for bar ``i`` equals ours at bar ``i+L`` (tests/tables/patterns/test_swings.py).

State: a JSON-able list of ``[start_ms, kind, level]`` (kind ``1`` high, ``-1`` low),
oldest first, capped at ``cap`` entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from aion.tables.patterns.features import BarRow

HIGH = 1
LOW = -1

Swing = list[float]
"""``[start_ms, kind, level]`` (a list, to stay JSON-able)."""


def candidate(window: Sequence[BarRow], length: int) -> tuple[int, float] | None:
    """The swing the window's ``L``-th bar makes, if any.

    Args:
        window: The last ``2 * length`` bars, oldest first (the candidate is
            ``window[length - 1]``, the bars after it are its confirmation).
        length: ``L``.

    Returns:
        ``(kind, level)``, or None when the bar is no swing or the window is short.
    """
    if length < 1 or len(window) < 2 * length:
        return None
    window = window[-2 * length:]
    bar = window[length - 1]
    if bar.high == max(b.high for b in window):
        return HIGH, bar.high
    if bar.low == min(b.low for b in window):
        return LOW, bar.low
    return None


def push(swings: list[Swing], start_ms: int, kind: int, level: float, cap: int) -> bool:
    """Add a confirmed swing, collapsing a run of one kind to its extreme.

    Args:
        swings: The known swings (changed in place).
        start_ms: The swing bar's start.
        kind: :data:`HIGH` or :data:`LOW`.
        level: Its high or low.
        cap: Most swings kept (the oldest go).

    Returns:
        Whether the list changed.
    """
    if swings and swings[-1][1] == kind:
        prev = swings[-1][2]
        if not (level > prev if kind == HIGH else level < prev):
            return False
        swings.pop()
    swings.append([start_ms, kind, level])
    del swings[:-cap]
    return True


def confirm(swings: list[Swing], recent: Sequence[BarRow], bar: BarRow, length: int,
            cap: int) -> bool:
    """Take one closed bar: confirm the swing of the bar ``length`` bars before it.

    Args:
        swings: The known swings (changed in place).
        recent: Bars before ``bar`` (at least ``2 * length - 1`` of them for a decision).
        bar: The bar that just closed.
        length: ``L``.
        cap: Most swings kept.

    Returns:
        Whether a swing was added.
    """
    window = [*recent[-(2 * length - 1):], bar]
    got = candidate(window, length)
    if got is None:
        return False
    return push(swings, window[length - 1].start_ms, got[0], got[1], cap)
