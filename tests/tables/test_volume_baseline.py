"""Time-aware volume baseline: the reference's worked example, additivity, VIX, ratio."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_strategies import assert_round_trips, vix_regimes

from aion.tables.timeutil import BUCKET_RESOLUTIONS, ist_wall_ns
from aion.tables.volume_baseline import (
    REASON_BAD_OBSERVED,
    REASON_NO_BASELINE,
    REASON_OUTSIDE_SESSION,
    SESSION_MINUTES,
    BaselineParams,
    Regime,
    SessionWindow,
    VixParams,
    VixRegime,
    VolumeBaseline,
    hhmm_to_minute,
    session_minute,
    volume_ratio,
)

FLAT = VolumeBaseline(BaselineParams(normalise=False))
NORM = VolumeBaseline()


def sm(hhmm: str) -> int:
    """Session minute index of an IST wall time."""
    return hhmm_to_minute(hhmm) - hhmm_to_minute("09:15")


@pytest.mark.parametrize("baseline", [FLAT, NORM], ids=["flat", "normalised"])
def test_reference_worked_example(baseline):
    # 1min baseline = 64.4M (from 5min: 322M / 5)
    base = baseline.minute_base_from_bucket(322_000_000, 5)
    assert base == 64_400_000.0
    # Opening frenzy = 64.4M x 1.8 = 115.92M (~116M): the 09:15 minute.
    assert baseline.expected(base, sm("09:15"), 1) == 115_920_000.0
    assert round(baseline.expected(base, sm("09:15"), 1) / 1e6) == 116
    # 10min baseline = 64.4M x 10 = 644M: a bucket with no session multiplier.
    assert baseline.expected(base, sm("10:15"), 10) == 644_000_000.0
    # High volatility = 644M x 1.4 = 901.6M (~901M) threshold.
    assert baseline.expected(base, sm("10:15"), 10, Regime.HIGH) == 901_600_000.0
    assert math.floor(baseline.expected(base, sm("10:15"), 10, Regime.HIGH) / 1e6) == 901


def test_worked_example_from_daily_average_flat():
    # Flat mode: the per-minute base is avg/375, so 64.4M/min is a 24.15B daily average.
    avg = 64_400_000.0 * 375
    assert FLAT.minute_base(avg) == 64_400_000.0
    t = ist_wall_ns(2025, 10, 23, 9, 15)
    assert FLAT.expected_at(avg, t, 1) == 115_920_000.0
    assert FLAT.expected_at(avg, ist_wall_ns(2025, 10, 23, 10, 15), 10, Regime.HIGH) == (
        901_600_000.0
    )


def test_normalised_profile_sums_to_daily_average():
    avg = 12_345_678.0
    base = NORM.minute_base(avg)
    assert NORM.expected(base, 0, SESSION_MINUTES) == pytest.approx(avg, rel=1e-12)
    # Flat mode over-expects by sum(multipliers)/375.
    assert FLAT.expected(FLAT.minute_base(avg), 0, SESSION_MINUTES) == pytest.approx(
        avg * NORM.total_units / 1e6 / 375, rel=1e-12
    )
    assert NORM.total_units == 411_000_000  # 375 + 30*0.8 - 90*0.2 + 30*1.0


def test_default_sessions_and_multipliers():
    assert NORM.multiplier_sum(sm("09:15"), 30) == pytest.approx(54.0)
    assert NORM.multiplier_sum(sm("09:44"), 1) == 1.8
    assert NORM.multiplier_sum(sm("09:45"), 1) == 1.0
    assert NORM.multiplier_sum(sm("11:59"), 1) == 1.0
    assert NORM.multiplier_sum(sm("12:00"), 1) == 0.8
    assert NORM.multiplier_sum(sm("13:29"), 1) == 0.8
    assert NORM.multiplier_sum(sm("13:30"), 1) == 1.0
    assert NORM.multiplier_sum(sm("14:59"), 1) == 1.0
    assert NORM.multiplier_sum(sm("15:00"), 1) == 2.0
    assert NORM.multiplier_sum(sm("15:29"), 1) == 2.0


def test_buckets_clip_to_session():
    # The 60-minute bucket at 15:15 is 15 minutes long (cut by the 15:30 close).
    assert NORM.multiplier_sum(sm("15:15"), 60) == 30.0
    assert NORM.multiplier_sum(sm("15:30"), 5) == 0.0
    assert NORM.multiplier_sum(-5, 10) == pytest.approx(5 * 1.8)
    assert NORM.expected(1000.0, sm("15:30"), 5) == 0.0


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(-30, SESSION_MINUTES + 10),
    res=st.sampled_from(BUCKET_RESOLUTIONS),
    split=st.integers(0, 60),
    avg=st.floats(1.0, 1e10),
    normalise=st.booleans(),
)
def test_bucket_additivity(start, res, split, avg, normalise):
    b = NORM if normalise else FLAT
    base = b.minute_base(avg)
    split = min(split, res)
    whole = b.expected(base, start, res)
    left = b.expected(base, start, split)
    right = b.expected(base, start + split, res - split)
    assert whole == pytest.approx(left + right, rel=1e-12, abs=1e-9)
    # Exact in integer units.
    assert b.units(start, res) == b.units(start, split) + b.units(start + split, res - split)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, SESSION_MINUTES - 1), avg=st.floats(1.0, 1e10))
def test_ten_minute_is_two_fives_and_sum_of_minutes(start, avg):
    base = NORM.minute_base(avg)
    ten = NORM.expected(base, start, 10)
    assert ten == pytest.approx(
        NORM.expected(base, start, 5) + NORM.expected(base, start + 5, 5), rel=1e-12
    )
    per_minute = sum(NORM.expected(base, start + i, 1) for i in range(10))
    assert ten == pytest.approx(per_minute, rel=1e-12)


def test_expected_many_matches_scalar():
    starts = np.arange(-5, SESSION_MINUTES + 5)
    got = NORM.expected_many(1000.0, starts, 15)
    want = [NORM.expected(1000.0, int(s), 15) for s in starts]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert np.isnan(NORM.expected_many(np.array([0.0, -1.0, np.nan]), [0, 0, 0], 5)).all()


def test_session_minute_from_event_time():
    assert session_minute(ist_wall_ns(2025, 10, 23, 9, 15)) == 0
    assert session_minute(ist_wall_ns(2025, 10, 23, 9, 15, 59)) == 0
    assert session_minute(ist_wall_ns(2025, 10, 23, 15, 29, 59)) == 374
    assert session_minute(ist_wall_ns(2025, 10, 23, 9, 0)) == -15


# ---------------------------------------------------------------- VIX regimes


@pytest.mark.parametrize(
    ("vix", "regime"),
    [
        (0.01, Regime.LOW),
        (11.99, Regime.LOW),
        (12.0, Regime.NORMAL),
        (17.99, Regime.NORMAL),
        (18.0, Regime.HIGH),
        (24.99, Regime.HIGH),
        (25.0, Regime.PANIC),
        (80.0, Regime.PANIC),
    ],
)
def test_regime_thresholds(vix, regime):
    params = VixParams()
    assert params.classify(vix) is regime
    state = VixRegime()
    change = state.update(vix, 1, params)
    assert change is not None and change.current is regime and change.previous is None
    assert (
        state.multiplier(params)
        == {"LOW": 0.8, "NORMAL": 1.0, "HIGH": 1.4, "PANIC": 1.8}[regime.value]
    )


def test_regime_change_events():
    params = VixParams()
    state = VixRegime()
    assert state.multiplier(params) == 1.0  # unknown until the first tick
    assert state.update(14.0, 10, params).current is Regime.NORMAL
    assert state.update(15.0, 20, params) is None  # same regime: no event
    ch = state.update(18.0, 30, params)
    assert (ch.previous, ch.current, ch.vix, ch.event_ns, ch.multiplier) == (
        Regime.NORMAL,
        Regime.HIGH,
        18.0,
        30,
        1.4,
    )
    # Out-of-order and invalid ticks are ignored and counted.
    assert state.update(30.0, 25, params) is None
    assert state.update(float("nan"), 40, params) is None
    assert state.update(-1.0, 40, params) is None
    assert state.regime is Regime.HIGH and state.rejected == 3
    assert state.update(11.0, 50, params).current is Regime.LOW


def test_regime_hysteresis():
    params = VixParams(hysteresis=0.5)
    state = VixRegime()
    state.update(17.0, 1, params)
    assert state.update(18.2, 2, params) is None  # not 0.5 past 18 yet
    assert state.update(18.5, 3, params).current is Regime.HIGH
    assert state.update(17.8, 4, params) is None  # not 0.5 below 18
    assert state.update(17.5, 5, params) is None  # 18 - 0.5 still counts as HIGH's edge
    assert state.update(17.49, 6, params).current is Regime.NORMAL


def test_vix_params_from_mapping():
    p = VixParams.from_mapping({"high_below": 30, "multipliers": {"panic": 2.0}})
    assert p.high_below == 30.0 and p.multipliers[Regime.PANIC] == 2.0
    assert p.multipliers[Regime.LOW] == 0.8
    with pytest.raises(ValueError, match="unknown VIX regime"):
        VixParams.from_mapping({"multipliers": {"EXTREME": 3}})
    with pytest.raises(ValueError, match="low_below < normal_below"):
        VixParams.from_mapping({"low_below": 20})


# ---------------------------------------------------------------- ratio


def test_ratio_and_cap():
    base_avg = 64_400_000.0 * 375
    r = FLAT.ratio(644_000_000.0 * 2, base_avg, sm("10:15"), 10)
    assert r.ratio == 2.0 and not r.capped and r.reason is None
    r = FLAT.ratio(901_600_000.0, base_avg, sm("10:15"), 10, Regime.HIGH)
    assert r.ratio == 1.0 and r.expected == 901_600_000.0
    r = FLAT.ratio(644_000_000.0 * 50, base_avg, sm("10:15"), 10)
    assert r.ratio == 10.0 and r.capped
    r = FLAT.ratio(644_000_000.0 * 10, base_avg, sm("10:15"), 10)
    assert r.ratio == 10.0 and not r.capped
    capped5 = VolumeBaseline(BaselineParams(ratio_cap=5.0))
    assert capped5.ratio(1e12, 1e6, 0, 5).ratio == 5.0


@pytest.mark.parametrize("avg", [None, 0.0, -5.0, float("nan"), float("inf")])
def test_ratio_without_baseline(avg):
    r = NORM.ratio(1000.0, avg, 0, 5)
    assert r.ratio is None and r.reason == REASON_NO_BASELINE


def test_ratio_outside_session_and_bad_observed():
    r = NORM.ratio(1000.0, 1e6, sm("15:30"), 5)
    assert r.ratio is None and r.reason == REASON_OUTSIDE_SESSION
    r = NORM.ratio(float("nan"), 1e6, 0, 5)
    assert r.ratio is None and r.reason == REASON_BAD_OBSERVED
    assert volume_ratio(-1, 100.0).reason == REASON_BAD_OBSERVED
    assert volume_ratio(0, 0.0).reason == REASON_NO_BASELINE
    assert volume_ratio(np.int64(50), np.float64(100.0)).ratio == 0.5


# ---------------------------------------------------------------- params


def test_params_from_mapping_merges_sessions_by_name():
    p = BaselineParams.from_mapping(
        {
            "normalise": False,
            "ratio_cap": 8,
            "sessions": {
                "opening": {"multiplier": 1.6},
                "midday": None,
                "pre_close": {"start": "14:30", "end": "15:00", "multiplier": 1.2},
            },
            "vix": {"low_below": 11},
        }
    )
    names = [s.name for s in p.sessions]
    assert names == ["opening", "pre_close", "closing"]
    assert p.sessions[0] == SessionWindow("opening", 555, 585, 1.6)
    assert p.normalise is False and p.ratio_cap == 8.0 and p.vix.low_below == 11.0
    b = VolumeBaseline(p)
    assert b.multiplier_sum(sm("14:30"), 1) == 1.2
    assert b.multiplier_sum(sm("12:30"), 1) == 1.0
    assert BaselineParams.from_mapping(None) == BaselineParams()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"session": {}}, "unknown volume_baseline setting"),
        ({"sessions": {"x": {"start": "09:00", "end": "09:30", "multiplier": 2}}}, "inside 09:15"),
        ({"sessions": {"opening": {"end": "10:30"}, "x": None}}, None),
        ({"sessions": {"x": {"start": "09:30", "end": "10:00", "multiplier": 1}}}, "overlap"),
        ({"sessions": {"x": {"start": "9.30", "end": "10:00", "multiplier": 1}}}, "HH:MM"),
        ({"sessions": {"x": {"start": "10:30", "end": "11:00", "multiplier": 0}}}, "positive"),
        ({"sessions": {"x": {"start": "10:30", "end": "11:00"}}}, "exactly the keys"),
        ({"normalise": "yes"}, "true or false"),
        ({"ratio_cap": 0}, "ratio_cap"),
    ],
)
def test_params_errors(mapping, message):
    if message is None:
        BaselineParams.from_mapping(mapping)  # valid: extending opening is fine
        return
    with pytest.raises(ValueError, match=message):
        BaselineParams.from_mapping(mapping)


def test_yaml_times_quoted_or_not():
    import yaml

    text = """
sessions:
  midday: {start: 12:00, end: '13:30', multiplier: 0.7}
  opening: {start: 09:15, end: 09:45, multiplier: 1.8}
"""
    p = BaselineParams.from_mapping(yaml.safe_load(text))
    midday = next(s for s in p.sessions if s.name == "midday")
    assert (midday.start, midday.end, midday.multiplier) == (720, 810, 0.7)
    with pytest.raises(ValueError, match="minute of the day"):
        hhmm_to_minute(1440)
    with pytest.raises(ValueError, match="HH:MM"):
        hhmm_to_minute(True)


@settings(max_examples=200, deadline=None)
@given(vix_regimes())
def test_vix_regime_component_round_trips(state: VixRegime) -> None:
    back = assert_round_trips(state)
    if state.last_ns < 0:
        assert math.isnan(back.last_vix) and back == VixRegime(rejected=state.rejected)


def test_vix_regime_restored_continues_exactly():
    params = VixParams(hysteresis=0.5)
    a = VixRegime()
    for i, x in enumerate((14.0, 18.6, 17.9, 11.0)):
        a.update(x, i, params)
    b = assert_round_trips(a)
    for i, x in enumerate((12.2, 11.4, 25.0), start=10):
        assert a.update(x, i, params) == b.update(x, i, params)
    assert a == b
