"""Volume-profile detectors: a scenario where each must fire and near-misses where it must not.

The detectors read the profile's levels at the bar's close (``BarContext.profile``); here
the levels are given by hand (:data:`LEVELS`), so each scenario places its bars against
known POC/VAH/VAL/nodes. That the engine hands a detector exactly the levels of the
ticks before the bar's close is tested in ``tests/tables/test_analytics_volume_profile.py``.

Paths (``bar_paths``): 40 quiet bars alternate 1000 and ``1000 e^R`` (``R`` = 0.001, the
local sigma), which puts them inside the value area 997..1003 and past the detectors'
warm-up (30 session bars); the bar under test follows. Confidence and expected-move
oracles are computed here from the docstrings' formulas with ``bar_paths.ref_sigma``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from bar_paths import (
    BASE_VOLUME,
    BASELINE,
    NS_PER_MIN,
    SUBJECT,
    TOKEN,
    closes_of,
    multiplier,
    only,
    path,
    quiet,
    ref_sigma,
    wild_steps,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.config.patterns import load_patterns
from aion.tables.bars import Bar
from aion.tables.patterns.alerts import AlertConfig, AlertSubject, on_bar
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.registry import PatternSet
from aion.tables.patterns.state import PatternState
from aion.tables.patterns.volume_profile import VpBreakout
from aion.tables.profile import ProfileLevels, ProfileParams, VolumeProfile
from aion.tables.records.alert import AlertRecord
from aion.tables.timeutil import ist_day

QUIET = path(quiet(40, -1))
"""40 quiet bars from 09:15; the last closes at ``1000 e^R`` (odd index)."""

PREV = QUIET[-1].close
assert abs(PREV - 1000 * math.exp(0.001)) < 1e-9  # the quiet path ends above 1000
DAY = int(ist_day(QUIET[0].start_ns))
LEVELS = ProfileLevels(day=DAY, tick_size=0.05, poc=1000.0, vah=1003.0, val=997.0,
                       hvn=(992.0, 1000.0, 1008.0), lvn=(995.0, 1005.0),
                       total_volume=10**9)


def bar(i: int, open_: float, high: float, low: float, close: float, rv: float) -> Bar:
    """Bar ``i`` minutes after 09:15 with explicit prices and relative volume ``rv``."""
    start = QUIET[0].start_ns + i * NS_PER_MIN
    return Bar(token=TOKEN, start_ns=start, open=open_, high=high, low=low, close=close,
               volume=round(rv * BASE_VOLUME * multiplier(start)), tick_count=4,
               late_ticks=0, vwap=None, first_ts_ns=start, last_ts_ns=start + 1)


def moved(closes: list[float], rv: float = 1.0) -> list[Bar]:
    """Wickless bars after :data:`QUIET` through ``closes``, each opening at the last close."""
    out, prev = [], PREV
    for k, c in enumerate(closes):
        out.append(bar(40 + k, prev, max(prev, c), min(prev, c), c, rv))
        prev = c
    return out


def alerts(name: str, bars: list[Bar], levels: ProfileLevels | None = LEVELS,
           subject: AlertSubject = SUBJECT) -> list[tuple[int, AlertRecord]]:
    """Alerts of one pattern (cooldown 0) over :data:`QUIET` + ``bars`` with fixed levels."""
    config = AlertConfig(patterns=only(name))
    st = PatternState()
    out = []
    for i, b in enumerate([*QUIET, *bars]):
        out.extend((i, a) for a in on_bar(st, subject, b, dict, None, config, BASELINE,
                                          levels))
    return out


def sigma_before(extra: list[Bar] = ()) -> float:  # type: ignore[assignment]
    """Reference local sigma over the quiet closes (and ``extra`` bars' closes)."""
    s = ref_sigma(closes_of(quiet(40, -1)) + [b.close for b in extra])
    assert s is not None
    return s


# ---------------------------------------------------------------- vp_breakout

def test_breakout_above_vah_on_volume_fires_bullish() -> None:
    close = 1004.0
    got = alerts("vp_breakout", moved([close], rv=2.0))
    assert [i for i, _ in got] == [40]
    a = got[0][1]
    assert a.signal == "BULLISH" and a.action == "BUY"
    dist = math.log(close / 1003.0) / sigma_before()
    # rv: the bar's volume over the expectation; the quiet path's is exactly 1.
    rv = a.details["rel_volume"]
    assert rv == pytest.approx(2.0, rel=1e-9)
    assert a.confidence == pytest.approx(0.5 + 0.1 * (dist - 0.5) + 0.05 * (rv - 1.5),
                                         abs=1e-6)
    assert a.details["distance_sigma"] == pytest.approx(dist, abs=1e-6)
    assert a.expected_move == pytest.approx(100 * (close / PREV - 1), abs=1e-6)


def test_breakout_below_val_fires_bearish() -> None:
    got = alerts("vp_breakout", moved([996.0], rv=2.0))
    assert [(i, a.signal) for i, a in got] == [(40, "BEARISH")]
    assert got[0][1].stop_loss > got[0][1].entry_price  # SELL: stop above


@pytest.mark.parametrize(("closes", "rv", "why"), [
    ([1004.0], 1.2, "volume below 1.5x"),
    ([1003.3], 2.0, "0.3 sigma past VAH, not 0.5"),
    ([1002.9], 3.0, "still inside the value area"),
    ([1003.3, 1003.4, 1003.5, 1003.6, 1004.5], 2.0, "last close inside 5 bars ago"),
])
def test_breakout_near_misses(closes: list[float], rv: float, why: str) -> None:
    bars = moved(closes, rv=rv)
    if len(closes) > 1:  # only the last bar carries the volume
        bars = [*moved(closes[:-1], rv=1.0), moved(closes, rv=rv)[-1]]
    assert alerts("vp_breakout", bars) == [], why


def test_breakout_fires_once_per_excursion_and_rearms_inside() -> None:
    # Out (fires), further out (same excursion: no), back inside, out again (fires).
    got = alerts("vp_breakout", moved([1004.0, 1005.0, 1001.0, 1004.2], rv=2.0))
    assert [i for i, _ in got] == [40, 43]


def test_breakout_needs_a_profile_of_this_session() -> None:
    bars = moved([1004.0], rv=2.0)
    assert alerts("vp_breakout", bars, levels=None) == []
    other_day = dataclasses.replace(LEVELS, day=DAY - 1)
    assert alerts("vp_breakout", bars, levels=other_day) == []


@pytest.mark.parametrize(("min_session_bars", "fires"), [(30, False), (20, True)])
def test_breakout_waits_for_min_session_bars(min_session_bars: int, fires: bool) -> None:
    # The same breakout after only 20 session bars (warm for sigma and rv): it needs
    # min_session_bars of them before it.
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    for k, block in blocks.items():
        block["enabled"] = k == "vp_breakout"
    blocks["vp_breakout"]["params"] = {**blocks["vp_breakout"]["params"],
                                       "min_session_bars": min_session_bars}
    config = AlertConfig(patterns=PatternSet.from_mapping(blocks))
    early = path(quiet(20))
    st = PatternState()
    prev = early[-1].close
    start = early[-1].start_ns + NS_PER_MIN
    b = Bar(token=TOKEN, start_ns=start, open=prev, high=1004.0, low=prev, close=1004.0,
            volume=round(2.0 * BASE_VOLUME * multiplier(start)), tick_count=1,
            late_ticks=0, vwap=None, first_ts_ns=start, last_ts_ns=start + 1)
    got = [a for x in [*early, b] for a in on_bar(st, SUBJECT, x, dict, None, config,
                                                    BASELINE, LEVELS)]
    assert len(got) == int(fires)


def test_breakout_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="within"):
        VpBreakout.Params.from_mapping({"within": 0})


# ---------------------------------------------------------------- vp_poc_rejection

def test_poc_rejection_from_above_fires_bullish_aimed_at_vah() -> None:
    # Came from above (previous close 1001.0005), wicked to 999.8 through the POC 1000,
    # closed back at 1001.0: about 1 sigma above it.
    b = bar(40, PREV, PREV + 0.1, 999.8, 1001.0, 1.5)
    got = alerts("vp_poc_rejection", [b])
    assert [i for i, _ in got] == [40]
    a = got[0][1]
    assert a.signal == "BULLISH"
    dist = math.log(1001.0 / 1000.0) / sigma_before()
    assert a.confidence == pytest.approx(0.5 + 0.1 * (dist - 0.5) + 0.05 * 0.5, abs=1e-6)
    assert a.expected_move == pytest.approx(100 * (1003.0 / 1001.0 - 1), abs=1e-6)
    assert a.target_price > a.entry_price > a.stop_loss


def test_poc_rejection_from_below_fires_bearish_aimed_at_val() -> None:
    levels = dataclasses.replace(LEVELS, poc=1002.0)
    b = bar(40, PREV, 1002.3, PREV - 0.1, 1001.0, 1.5)
    got = alerts("vp_poc_rejection", [b], levels=levels)
    assert [(i, a.signal) for i, a in got] == [(40, "BEARISH")]
    assert got[0][1].expected_move == pytest.approx(100 * (1 - 997.0 / 1001.0), abs=1e-6)
    assert got[0][1].stop_loss > got[0][1].entry_price


@pytest.mark.parametrize(("b", "why"), [
    (bar(40, PREV, PREV + 0.1, 1000.2, 1001.0, 1.5), "the wick stops short of the POC"),
    (bar(40, PREV, PREV + 0.1, 999.8, 1000.3, 1.5), "closes only 0.3 sigma away"),
    (bar(40, 999.5, 1001.2, 999.4, 1001.0, 1.5), "opens below the POC: a cross"),
    (bar(40, PREV, PREV + 0.1, 999.8, 1001.0, 0.8), "volume below normal"),
])
def test_poc_rejection_near_misses(b: Bar, why: str) -> None:
    assert alerts("vp_poc_rejection", [b]) == [], why


# ---------------------------------------------------------------- vp_node_test

NODE_LEVELS = dataclasses.replace(LEVELS, poc=990.0, vah=1003.0, val=985.0,
                                  hvn=(990.0, 1000.0, 1008.0))


def test_node_test_hvn_support_holds_bullish_aimed_at_next_hvn() -> None:
    b = bar(40, PREV, PREV + 0.1, 999.9, 1001.0, 1.2)
    got = alerts("vp_node_test", [b], levels=NODE_LEVELS)
    assert [i for i, _ in got] == [40]
    a = got[0][1]
    assert a.signal == "BULLISH"
    assert a.details["node"] == "hvn" and a.details["level"] == 1000.0
    assert a.details["target_level"] == 1008.0
    assert a.expected_move == pytest.approx(100 * (1008.0 / 1001.0 - 1), abs=1e-6)
    dist = math.log(1001.0 / 1000.0) / sigma_before()
    assert a.confidence == pytest.approx(0.5 + 0.1 * (dist - 0.5) + 0.05 * 0.2, abs=1e-6)


def test_node_test_hvn_resistance_holds_bearish() -> None:
    levels = dataclasses.replace(NODE_LEVELS, hvn=(990.0, 1002.0, 1008.0))
    b = bar(40, PREV, 1002.2, PREV - 0.1, 1001.0, 1.2)
    got = alerts("vp_node_test", [b], levels=levels)
    assert [(i, a.signal, a.details["level"]) for i, a in got] == [(40, "BEARISH", 1002.0)]
    # The next HVN below the close is the POC 990.
    assert got[0][1].details["target_level"] == 990.0


def test_node_test_leaves_the_poc_to_poc_rejection() -> None:
    b = bar(40, PREV, PREV + 0.1, 999.9, 1001.0, 1.2)
    assert alerts("vp_node_test", [b]) == []  # LEVELS: 1000 is the POC
    assert len(alerts("vp_poc_rejection", [b])) == 1


def test_node_test_run_through_lvn_fires_in_the_move_direction() -> None:
    close = 1003.6
    levels = dataclasses.replace(NODE_LEVELS, lvn=(1002.0,))
    got = alerts("vp_node_test", moved([close], rv=2.0), levels=levels)
    assert [i for i, _ in got] == [40]
    a = got[0][1]
    assert a.signal == "BULLISH" and a.details["node"] == "lvn"
    z = math.log(close / PREV) / sigma_before()
    assert a.details["move_sigma"] == pytest.approx(z, abs=1e-6)
    assert a.confidence == pytest.approx(0.5 + 0.1 * (z - 2.0) + 0.05 * 0.5, abs=1e-6)
    assert a.details["target_level"] == 1008.0


@pytest.mark.parametrize(("closes", "rv", "lvn", "why"), [
    ([1003.6], 2.0, 1004.0, "the move stops short of the LVN"),
    ([1003.6], 1.2, 1002.0, "volume below 1.5x"),
    ([1002.5], 2.0, 1002.0, "1.5 sigma, not 2"),
])
def test_node_test_lvn_near_misses(closes: list[float], rv: float, lvn: float,
                                   why: str) -> None:
    levels = dataclasses.replace(NODE_LEVELS, lvn=(lvn,))
    assert alerts("vp_node_test", moved(closes, rv=rv), levels=levels) == [], why


# ---------------------------------------------------------------- registry and levels

def test_profile_patterns_apply_to_equities_and_futures_and_need_the_profile() -> None:
    ps = only("vp_node_test")
    assert ps.needs_profile(InstrumentKind.EQUITY) and ps.needs_profile(InstrumentKind.FUTURE)
    assert not ps.needs_profile(InstrumentKind.INDEX)
    assert not only("breakout").needs_profile(InstrumentKind.EQUITY)
    assert PatternSet().needs_profile(InstrumentKind.EQUITY) is False


def test_quiet_path_is_inside_the_value_area() -> None:
    # The scenarios rely on it: the quiet closes sit inside 997..1003, so no pattern fires.
    for name in ("vp_breakout", "vp_poc_rejection", "vp_node_test"):
        assert alerts(name, []) == [], name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_levels_are_the_evaluated_profiles(seed: int) -> None:
    """``levels()`` reports the figures of ``evaluate()`` (every node kept), as prices."""
    rng = np.random.default_rng(seed)
    prof = VolumeProfile(0.05, ProfileParams(max_nodes=10**6))
    n = 3000
    prices = np.round((1500 + np.cumsum(rng.normal(0, 0.15, n))) / 0.05) * 0.05
    prof.update_many(prices, rng.integers(0, 500, n), np.arange(n), np.full(n, DAY))
    lv, snap = prof.levels(), prof.evaluate()
    assert lv is not None and snap is not None
    assert (lv.poc, lv.vah, lv.val) == (snap.price(snap.poc), snap.price(snap.va_high),
                                        snap.price(snap.va_low))
    assert lv.hvn == tuple(snap.price(r) for r in snap.hvn) and len(lv.hvn) >= 2
    assert lv.lvn == tuple(snap.price(r) for r in snap.lvn) and len(lv.lvn) >= 2
    assert lv.day == DAY and lv.total_volume == snap.total_volume
    assert VolumeProfile(0.05).levels() is None


# ---------------------------------------------------------------- wild paths

VP = ("vp_breakout", "vp_poc_rejection", "vp_node_test")


def wild_bars(seed: int, n: int) -> list[Bar]:
    """Quiet bars, then ``n`` wild ones (``bar_paths.wild_steps``) given random wicks."""
    rng = np.random.default_rng(10_000 + seed)
    out = []
    for b in path(quiet(40, -1) + wild_steps(seed, n)):
        up, down = rng.choice([0.0, 0.0, 0.5, 1.0, 2.0], size=2) * 0.001 * b.close
        out.append(dataclasses.replace(b, high=round(b.high + up, 2),
                                       low=round(b.low - down, 2)))
    return out


def feed_with_profile(bars: list[Bar], config: AlertConfig) -> list[tuple[int, AlertRecord]]:
    """``alerts.on_bar`` over ``bars`` with a profile of the bars' own volume.

    Each bar's volume goes to its open, high, low and close (a quarter each) before it
    closes, so the levels at a close are those of the ticks up to it, as in the engine.
    """
    prof = VolumeProfile(0.05)
    st = PatternState()
    out = []
    for i, b in enumerate(bars):
        q = b.volume // 4
        prof.update_many([b.open, b.high, b.low, b.close], [q] * 4, [b.start_ns] * 4,
                         [DAY] * 4)
        out.extend((i, a) for a in on_bar(st, SUBJECT, b, dict, None, config, BASELINE,
                                          prof.levels()))
    return out


def vp_enabled() -> AlertConfig:
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    for k, block in blocks.items():
        block["enabled"] = k in VP
        block["cooldown_s"] = 0
    return AlertConfig(patterns=PatternSet.from_mapping(blocks))


def test_every_profile_pattern_fires_on_wild_paths_with_bounded_confidence() -> None:
    seen: set[str] = set()
    config = vp_enabled()
    for seed in range(12):
        for _, a in feed_with_profile(wild_bars(seed, 150), config):
            assert 0.0 <= a.confidence <= 1.0, a
            assert a.pattern in VP
            seen.add(a.pattern)
    assert seen == set(VP)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 120), t=st.integers(30, 159))
def test_profile_hits_up_to_bar_t_do_not_depend_on_later_bars(seed: int, n: int,
                                                              t: int) -> None:
    config = vp_enabled()
    bars = wild_bars(seed, n)
    t = min(t, len(bars) - 1)
    full = [(i, a) for i, a in feed_with_profile(bars, config) if i <= t]
    assert full == feed_with_profile(bars[:t + 1], config)
