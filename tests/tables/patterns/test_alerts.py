"""From hits to alerts: deterministic id, cooldown, market-hours guard, risk sides, state.

Paths from ``bar_paths``: after ``quiet(30)`` the last close is at the low of a
``[P0 exp(-R), P0]`` range and the local sigma is ``R``; a step ``(ret, rv)`` is a bar
moving ``ret`` R on ``rv`` times the expected volume.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import talib
from bar_paths import (
    alerts_of,
    all_enabled,
    feed,
    only,
    path,
    quiet,
    wild_steps,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.config.nse_calendar import NseCalendar
from aion.config.patterns import load_patterns
from aion.tables.bars import Bar
from aion.tables.expiry import TradingCalendar
from aion.tables.patterns.alerts import AlertConfig, in_market_hours
from aion.tables.patterns.registry import PatternSet
from aion.tables.patterns.state import PatternState
from aion.tables.timeutil import ist_wall_ns

SPIKE = (1.0, 5.0)
"""An up bar (+1 R, inside the range) on 5x volume: a volume spike and nothing else."""


def spike_path(day: tuple[int, int, int], hh: int, mm: int) -> list[Bar]:
    """Quiet bars from ``hh:mm`` IST, then a spike as bar 30, then 5 quiet bars."""
    return path([*quiet(30), SPIKE, *quiet(5, -1)], start_ns=ist_wall_ns(*day, hh, mm))


def calendar() -> TradingCalendar:
    return TradingCalendar(NseCalendar.load())


# ---- id ---------------------------------------------------------------------------------

def test_alert_id_is_symbol_pattern_bar_start_and_repeats_on_replay() -> None:
    bars = path([*quiet(30), SPIKE])
    first = alerts_of("volume_spike", bars)
    again = alerts_of("volume_spike", bars)
    assert len(first) == 1
    a = first[0][1]
    start_ms = bars[30].start_ns // 1_000_000
    assert a.alert_id == f"INFY:volume_spike:{start_ms}"
    assert a.timestamp == start_ms + 60_000  # known at the bar's end
    assert [x.alert_id for _, x in again] == [a.alert_id]
    assert again[0][1] == a


# ---- cooldown ---------------------------------------------------------------------------

def _three_spikes(gap_minutes: int) -> list[Bar]:
    # Spikes at bars 30, 35 and 30 + gap; the later spikes trade 8x the pre-spike level
    # (the expectation has risen after the first one; 8x stays above 4x of it).
    steps = [*quiet(30), SPIKE, *quiet(4, -1), (1.0, 8.0), *quiet(gap_minutes - 6, -1),
             (1.0, 8.0), *quiet(3, -1)]
    assert steps[30 + gap_minutes][1] == 8.0
    return path(steps)


@pytest.mark.parametrize(("gap", "fires"), [(14, False), (15, True), (16, True)])
def test_cooldown_in_event_time(gap: int, fires: bool) -> None:
    bars = _three_spikes(gap)
    st_ = PatternState()
    got = feed(bars, AlertConfig(patterns=only("volume_spike", 900.0)), st_)
    # The spike 5 minutes later is suppressed and counted; the one ``gap`` minutes after
    # the first fires once 900 s have passed (alert time minus last alert time >= 900 s).
    assert [i for i, _ in got] == ([30, 30 + gap] if fires else [30])
    assert st_.suppressed == (1 if fires else 2)
    assert st_.alerts == len(got)
    # The same path with no cooldown: every spike is an alert (they are real hits).
    assert [i for i, _ in alerts_of("volume_spike", bars)] == [30, 35, 30 + gap]


def test_cooldown_is_per_pattern() -> None:
    # Bar 30: spike only. Bar 35: closes 1.5 sigma above the range on 8x volume: a
    # volume spike (cooling down) and a volume breakout (not).
    steps = [*quiet(30), SPIKE, *quiet(4, -1), (1.5, 8.0)]
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    for k, b in blocks.items():
        b["enabled"] = k in ("volume_spike", "volume_breakout")
    st_ = PatternState()
    got = feed(path(steps), AlertConfig(patterns=PatternSet.from_mapping(blocks)), st_)
    assert [(i, a.pattern) for i, a in got] == [(30, "volume_spike"), (35, "volume_breakout")]
    assert st_.suppressed == 1


def test_cooldown_is_per_symbol() -> None:
    # A second instrument's state knows nothing of the first one's alerts.
    config = AlertConfig(patterns=only("volume_spike", 900.0))
    bars = path([*quiet(30), SPIKE])
    a, b = PatternState(), PatternState()
    assert len(feed(bars, config, a)) == 1
    assert len(feed(bars, config, b)) == 1


# ---- market-hours guard -----------------------------------------------------------------

@pytest.mark.parametrize(("hh", "mm", "fires"), [
    (14, 59, True),   # spike bar 15:29-15:30: ends at the close
    (15, 0, False),   # spike bar 15:30-15:31: ends after it
    (8, 45, True),    # spike bar 09:15-09:16: the first session minute
    (8, 44, False),   # spike bar 09:14-09:15: starts before the open
])
def test_market_hours_guard(hh: int, mm: int, fires: bool) -> None:
    bars = spike_path((2025, 11, 18), hh, mm)
    st_ = PatternState()
    got = feed(bars, AlertConfig(patterns=only("volume_spike")), st_)
    assert [i for i, _ in got] == ([30] if fires else [])
    assert st_.suppressed == (0 if fires else 1)


def test_in_market_hours_boundaries() -> None:
    day = (2025, 11, 18)
    assert not in_market_hours(ist_wall_ns(*day, 9, 14), None)
    assert in_market_hours(ist_wall_ns(*day, 9, 15), None)
    assert in_market_hours(ist_wall_ns(*day, 15, 29), None)
    assert not in_market_hours(ist_wall_ns(*day, 15, 30), None)


@pytest.mark.parametrize(("day", "fires"), [
    ((2025, 11, 5), False),   # Prakash Gurpurb (config/nse_calendar.yaml): no session
    ((2025, 11, 8), False),   # a Saturday
    ((2025, 11, 4), True),    # a Tuesday, trading
])
def test_non_trading_day_produces_no_alert(day: tuple[int, int, int], fires: bool) -> None:
    bars = spike_path(day, 10, 0)
    with_cal = feed(bars, AlertConfig(patterns=only("volume_spike"), calendar=calendar()))
    assert [i for i, _ in with_cal] == ([30] if fires else [])
    # Without a calendar only the hours are checked: the hit itself is there.
    assert [i for i, _ in feed(bars, AlertConfig(patterns=only("volume_spike")))] == [30]


# ---- risk sides -------------------------------------------------------------------------

def _atr_before(bars: list[Bar], i: int) -> float:
    """TA-Lib's ATR(20) of the bars before ``i`` (one leading flat bar: see test_features)."""
    pad = (bars[0].high + bars[0].low) / 2
    h = np.array([pad] + [b.high for b in bars[:i]])
    lo = np.array([pad] + [b.low for b in bars[:i]])
    c = np.array([pad] + [b.close for b in bars[:i]])
    return float(talib.ATR(h, lo, c, timeperiod=20)[-1])


@pytest.mark.parametrize(("ret", "signal", "action"), [(1.0, "BULLISH", "BUY"),
                                                         (-1.0, "BEARISH", "SELL")])
def test_stop_and_target_sides_once_atr_is_known(ret: float, signal: str, action: str) -> None:
    bars = path([*quiet(30, -int(ret)), (ret, 5.0)])
    (i, a), = alerts_of("volume_spike", bars)
    assert (i, a.signal, a.action) == (30, signal, action)
    n = _atr_before(bars, 30)
    assert a.atr == pytest.approx(n, rel=1e-10)
    d = 1 if action == "BUY" else -1
    entry = bars[30].close
    assert a.entry_price == entry
    # Stop 2N on the side opposite the trade: below a BUY, above a SELL.
    assert a.stop_loss == pytest.approx(entry - d * 2 * n, rel=1e-12)
    assert d * (entry - a.stop_loss) > 0
    # Target the body's move again, in the trade's direction: move = |close/open - 1|.
    move = abs(bars[30].close / bars[30].open - 1)
    assert a.expected_move == pytest.approx(100 * move, rel=1e-9)
    assert a.target_price == pytest.approx(entry * (1 + d * move), rel=1e-12)
    assert d * (a.target_price - entry) > 0
    # Turtle unit: 1 % of 1,000,000 per N, whole shares (equity), rounded down.
    assert a.quantity == math.floor(10_000 / n)
    assert a.rr_ratio == pytest.approx(abs(a.target_price - entry) / (2 * n), rel=1e-9)


def test_stop_falls_back_to_one_percent_before_atr() -> None:
    # Bar 12: relative volume is known (10 bars), the 20-bar ATR is not.
    bars = path([*quiet(12), SPIKE])
    (i, a), = alerts_of("volume_spike", bars)
    assert i == 12 and a.atr is None and a.quantity == 0
    assert a.stop_loss == pytest.approx(bars[12].close * 0.99, rel=1e-12)


# ---- state round trip -------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 200))
def test_state_encode_decode_mid_stream_gives_identical_later_alerts(seed: int,
                                                                     cut: int) -> None:
    config = all_enabled(None)  # the file's cooldowns: they must survive too
    bars = path([*quiet(12), *wild_steps(seed, 190)])
    cut = min(cut, len(bars))
    full = feed(bars, config)
    a = PatternState()
    feed(bars[:cut], config, a)
    payload = json.loads(json.dumps(a.encode()))
    b = PatternState.decode(payload, PatternState.VERSION)
    assert b.encode() == a.encode()
    rest = [(i + cut, x) for i, x in feed(bars[cut:], config, b)]
    assert rest == [(i, x) for i, x in full if i >= cut]


def test_a_long_random_path_round_trips_at_every_hundredth_bar() -> None:
    config = all_enabled(None)
    bars = path([*quiet(12), *wild_steps(99, 600)])
    full = feed(bars, config)
    assert len(full) > 20
    st_ = PatternState()
    got = []
    for lo in range(0, len(bars), 100):
        got.extend((i + lo, x) for i, x in feed(bars[lo:lo + 100], config, st_))
        st_ = PatternState.decode(json.loads(json.dumps(st_.encode())), 1)
    assert got == full
