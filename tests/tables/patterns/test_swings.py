"""Causal swing points and fair value gaps against ``smartmoneyconcepts`` (0.0.27).

**Swings.** ``smc.swing_highs_lows(ohlc, swing_length=L)`` marks bar ``i`` by comparing
its high with the highs of bars ``i-L+1 .. i+L``: it reads ``L`` bars *after* ``i``.
Ours confirms the same swing at the close of bar ``i+L`` (the confirmation delay) and
dates it at bar ``i``, so the library's output for bar ``i`` is compared with what we
knew at bar ``i+L``: the swing is in our list from that bar on, and never earlier. Two
quirks of the library are matched, not copied: its rolling window needs ``2L`` rows of
the shifted series, so it only considers bars ``i >= 2L-1`` (we are fed from bar ``L``,
which gives the same candidates), and it overwrites its first and last rows with
artificial swings (bars 0 and n-1 are left out of the comparison).

**Fair value gaps.** ``smc.fvg`` dates a gap at its middle bar ``i`` but reads bar
``i+1``: the gap is known at bar ``i+1``'s close, where :func:`step_gaps` records it, so
the library's row ``i`` is compared with our formation at bar ``i+1``; its
``MitigatedIndex`` (the first bar from ``i+2`` whose low reaches a bullish gap's top, or
high a bearish gap's bottom) is our retest bar.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from smartmoneyconcepts import smc

from aion.tables.patterns.features import BarRow
from aion.tables.patterns.ict import step_gaps
from aion.tables.patterns.swings import HIGH, LOW, Swing, candidate, confirm, push


def walk(seed: int, n: int = 600, step: float = 1.0, wick: float = 0.6) -> list[BarRow]:
    """A random walk of bars on 0.05 ticks (equal highs and lows happen)."""
    rng = np.random.default_rng(seed)
    out, close = [], 1000.0
    for i in range(n):
        open_ = close
        close = round(open_ + step * rng.standard_normal() * 20) / 20
        hi = max(open_, close) + round(wick * rng.random() * 20) / 20
        lo = min(open_, close) - round(wick * rng.random() * 20) / 20
        out.append(BarRow(i * 60_000, open_, hi, lo, close, 1.0))
    return out


def frame(bars: list[BarRow]) -> pd.DataFrame:
    return pd.DataFrame({k: [getattr(b, k) for b in bars]
                         for k in ("open", "high", "low", "close", "volume")})


def causal(bars: list[BarRow], length: int) -> tuple[list[Swing], dict[int, int]]:
    """Feed bars one by one; the final swings and, per swing bar, the bar that confirmed it."""
    swings: list[Swing] = []
    known_at: dict[int, int] = {}
    for i, bar in enumerate(bars):
        if confirm(swings, bars[:i], bar, length, 10**6):
            known_at[int(swings[-1][0])] = i
    return swings, known_at


@pytest.mark.parametrize(("seed", "length"), [(1, 3), (2, 3), (3, 5), (4, 2), (5, 10), (6, 1)])
def test_swings_are_smcs_shifted_by_the_confirmation_delay(seed: int, length: int) -> None:
    bars = walk(seed)
    ref = smc.swing_highs_lows(frame(bars), swing_length=length)
    n = len(bars)
    expected = {(i, int(k), float(v)) for i, (k, v) in enumerate(zip(ref["HighLow"],
                                                                      ref["Level"], strict=True))
                if not math.isnan(k) and 0 < i < n - 1}
    fed = bars[length:]
    swings, known_at = causal(fed, length)
    ours = {(int(s[0]) // 60_000, int(s[1]), s[2]) for s in swings}
    assert ours == expected
    assert len(expected) >= 10
    for ms, at in known_at.items():
        # Confirmed exactly `length` bars after its bar (indices in `fed`).
        assert at - (ms // 60_000 - length) == length


def test_a_swing_is_not_known_before_its_confirmation_bars() -> None:
    bars = walk(7, 200)
    _, known_at = causal(bars, 3)
    for ms, at in known_at.items():
        before, _ = causal(bars[:at], 3)  # one bar short of its confirmation
        assert all(int(s[0]) != ms for s in before)
        after, _ = causal(bars[:at + 1], 3)
        assert int(after[-1][0]) == ms


def test_candidate_and_collapse_by_hand() -> None:
    def row(i: int, h: float, lo: float) -> BarRow:
        return BarRow(i, lo, h, lo, h, 1.0)
    # L = 2: window of 4, candidate at index 1.
    assert candidate([row(0, 5, 1), row(1, 9, 3), row(2, 7, 2), row(3, 6, 2)], 2) == (HIGH, 9)
    assert candidate([row(0, 5, 3), row(1, 4, 1), row(2, 7, 2), row(3, 6, 2)], 2) == (LOW, 1)
    assert candidate([row(0, 9, 1), row(1, 8, 3), row(2, 7, 2), row(3, 6, 2)], 2) is None
    assert candidate([row(0, 9, 1), row(1, 8, 3), row(2, 7, 2)], 2) is None  # short window
    swings: list[Swing] = []
    assert push(swings, 1, HIGH, 10.0, 3)
    assert not push(swings, 2, HIGH, 10.0, 3)  # equal high: the earlier stays
    assert push(swings, 3, HIGH, 11.0, 3) and swings == [[3, HIGH, 11.0]]
    assert push(swings, 4, LOW, 5.0, 3) and push(swings, 5, HIGH, 12.0, 3)
    assert push(swings, 6, LOW, 4.0, 3) and len(swings) == 3 and swings[0][0] == 4


def gaps_of(bars: list[BarRow]) -> tuple[dict[int, tuple[int, float, float]], dict[int, int]]:
    """Our gaps by the bar that formed them, and their retest bars (formation -> retest)."""
    gaps: list[list[float]] = []
    formed: dict[int, tuple[int, float, float]] = {}
    retest: dict[int, int] = {}
    for i, bar in enumerate(bars):
        touched, new = step_gaps(gaps, bars[:i], bar, 0.0, 10**6)
        for g in touched:
            retest[int(g[3]) // 60_000] = i
        if new is not None:
            formed[i] = (int(new[0]), new[1], new[2])
    return formed, retest


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_fair_value_gaps_are_smcs_known_one_bar_later(seed: int) -> None:
    bars = walk(seed, 800, step=1.0, wick=0.3)
    ref = smc.fvg(frame(bars))
    expected = {}
    expected_retest = {}
    for i, row in ref.iterrows():
        if math.isnan(row["FVG"]):
            continue
        expected[i + 1] = (int(row["FVG"]), float(row["Top"]), float(row["Bottom"]))
        if row["MitigatedIndex"] > 0:
            expected_retest[i + 1] = int(row["MitigatedIndex"])
    formed, retest = gaps_of(bars)
    assert formed == expected
    assert retest == expected_retest
    assert len(expected) >= 20 and sum(k == -1 for k, _, _ in expected.values()) >= 5


def test_a_gap_by_hand_and_its_minimum_size() -> None:
    b1 = BarRow(0, 100.0, 101.0, 99.5, 100.5, 1.0)
    b2 = BarRow(60_000, 100.5, 104.0, 100.4, 103.8, 1.0)
    b3 = BarRow(120_000, 103.8, 105.0, 102.0, 104.5, 1.0)
    gaps: list[list[float]] = []
    assert step_gaps(gaps, [b1, b2], b3, 1.0, 8) == ([], [1, 102.0, 101.0, 120_000])
    assert step_gaps([], [b1, b2], b3, 1.01, 8)[1] is None  # 1.0 tall: under the minimum
    b4 = BarRow(180_000, 104.5, 104.6, 102.1, 104.0, 1.0)  # low 102.1 above the top 102
    assert step_gaps(gaps, [b2, b3], b4, 1.0, 8) == ([], None) and len(gaps) == 1
    b5 = BarRow(240_000, 104.0, 104.2, 101.5, 103.0, 1.0)  # low 101.5 <= top: retest
    assert step_gaps(gaps, [b3, b4], b5, 1.0, 8)[0] == [[1, 102.0, 101.0, 120_000]]
    assert gaps == []
