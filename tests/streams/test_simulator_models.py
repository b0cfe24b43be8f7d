"""The simulator's background models (issue 12), against closed forms and the calendar."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from aion.streams.simulator.bursts import BurstParams, simulate_bursts
from aion.streams.simulator.ou import ou_paths
from aion.streams.simulator.trade_sizes import (
    BLOCK_MAX,
    BLOCK_SCALE_CAP,
    BODY_SIGMA,
    scaled_sizes,
    size_multiples,
)
from aion.streams.simulator.transient import TRANSIENT_TAU_S, TRANSIENT_VARIANCE_RATIO
from aion.streams.simulator.universe import (
    BANKNIFTY_LAST_WEEKLY,
    build_universe,
    monthly_expiry,
    option_expiry_for,
    weekly_expiry,
)
from aion.streams.simulator.volatility import (
    COMMON_VOL_CORR,
    FAST_LOG_VOL_STD,
    LOG_VOL_BOUND,
    SLOW_LOG_VOL_STD,
    bounded_log_vol,
    volatility_multipliers,
)
from aion.streams.simulator.volume_level import (
    LEVEL_SHRINK,
    LEVEL_WINDOW_S,
    QUARTER_HOUR_RANGE,
    anchor_volume_level,
)


def test_ou_paths_have_the_stationary_std_and_exponential_autocorrelation() -> None:
    x = ou_paths(np.random.default_rng(1), 200, 4_000, std=0.5, tau_s=20.0)
    assert x.std() == pytest.approx(0.5, rel=0.03)
    lag = 20
    acf = np.corrcoef(x[:, lag:].ravel(), x[:, :-lag].ravel())[0, 1]
    assert acf == pytest.approx(math.exp(-lag / 20.0), abs=0.02)


def test_transient_gives_the_closed_form_lag1_autocorrelation() -> None:
    # Efficient unit-variance per-second returns plus the OU deviation, on 1-minute bars.
    rng = np.random.default_rng(2)
    n = 60 * 200_000
    eff = np.cumsum(rng.standard_normal(n))
    dev = ou_paths(rng, 1, n, std=math.sqrt(TRANSIENT_VARIANCE_RATIO * 60.0),
                   tau_s=TRANSIENT_TAU_S)[0]
    r = np.diff((eff + dev)[::60])
    g, phi = TRANSIENT_VARIANCE_RATIO, math.exp(-60.0 / TRANSIENT_TAU_S)
    expected = -g * (1 - phi) ** 2 / (1 + 2 * g * (1 - phi))
    assert np.corrcoef(r[1:], r[:-1])[0, 1] == pytest.approx(expected, abs=0.01)


def test_volatility_is_bounded_has_mean_square_one_and_follows_the_market() -> None:
    mult, log_level = volatility_multipliers(np.random.default_rng(5), 60, 22_500)
    assert np.abs(log_level).max() < LOG_VOL_BOUND
    # Mean square 1 in law: against a Monte Carlo of the squashed stationary normal.
    std = math.hypot(SLOW_LOG_VOL_STD, FAST_LOG_VOL_STD)
    mc = np.exp(2 * bounded_log_vol(np.random.default_rng(6).normal(0, std, 2_000_000)))
    assert np.mean(mult**2) == pytest.approx(1.0, rel=0.05)
    assert (mult**2).max() / (mult**2).min() <= math.exp(4 * LOG_VOL_BOUND)
    assert np.mean(np.exp(2 * log_level)) == pytest.approx(mc.mean(), rel=0.05)
    # Every other series shares the first one's volatility (correlation before the bound).
    corr = np.corrcoef(log_level[0], log_level[1:])[0, 1:]
    assert corr.mean() == pytest.approx(COMMON_VOL_CORR, abs=0.1)


def test_size_multiples_have_mean_one_a_heavy_tail_and_a_cap() -> None:
    x = size_multiples(np.random.default_rng(3), 2_000_000)
    assert x.mean() == pytest.approx(1.0, rel=0.02)
    body_ratio = math.exp(2.326 * BODY_SIGMA)  # lognormal p99 / median
    assert np.percentile(x, 99) / np.median(x) > body_ratio
    assert x.max() <= BLOCK_MAX


def test_bursts_self_excite() -> None:
    params = BurstParams()
    b = simulate_bursts(np.random.default_rng(4), 40, 22_500, params)
    # Stationary Hawkes mean rate: base / (1 - branching), up to the 1-per-second cap.
    rate = b.count.sum() / (40 * 22_500)
    assert rate == pytest.approx(params.base_per_s / (1 - params.branching), rel=0.25)
    assert b.excitation.max() <= params.max_excitation and (b.excitation >= 0).all()
    assert np.count_nonzero(b.jumps) > 0


def test_banknifty_options_are_monthly_after_the_last_weekly() -> None:
    before, after = BANKNIFTY_LAST_WEEKLY, date(2024, 11, 14)
    assert option_expiry_for("BANKNIFTY", before) == weekly_expiry(before)
    assert option_expiry_for("BANKNIFTY", after) == monthly_expiry(after)
    assert option_expiry_for("NIFTY", after) == weekly_expiry(after)
    day = date(2025, 11, 18)
    expiries = {(m.instrument.name, m.instrument.expiry)
                for m in build_universe(day).members if m.instrument.is_option}
    assert expiries == {("NIFTY", weekly_expiry(day)), ("BANKNIFTY", monthly_expiry(day))}


def test_volume_level_is_anchored_but_spikes_survive() -> None:
    n = 22_500
    t = np.arange(n)
    slow = np.exp(0.5 * np.sin(2 * np.pi * t / 9_000))  # quarter-hour level wander
    spikes = np.ones(n)
    spikes[5_000:5_060] = 10.0  # a one-minute 10x burst
    out = anchor_volume_level(slow * spikes)
    assert out.mean() == pytest.approx(1.0)
    # The slow wander shrinks by about (1 - LEVEL_SHRINK) in log (window averaging
    # of the sine flattens it a little, so the shrink is a bit less than nominal).
    far = (t > LEVEL_WINDOW_S) & (t < n - LEVEL_WINDOW_S) & ((t < 4_000) | (t > 6_500))
    span_in, span_out = np.ptp(np.log(slow[far])), np.ptp(np.log(out[far]))
    assert span_out < (1.0 - LEVEL_SHRINK) * span_in * 2.5
    # The burst keeps most of its multiple over its neighbourhood.
    assert out[5_000:5_060].mean() / out[4_000:4_900].mean() > 6.0


def test_a_burst_cluster_cannot_carry_its_quarter_hour() -> None:
    mult = np.ones(22_500)
    mult[300:480] = 15.0  # three minutes at 15x in the first quarter hour
    out = anchor_volume_level(mult)
    quarter = out[:900].mean()
    assert quarter <= QUARTER_HOUR_RANGE[1] * 1.05  # was 1 + 14 * 180 / 900 = 3.8
    assert out[300:480].mean() / np.median(out) > 4.0  # still a burst


def test_blocks_do_not_scale_with_a_burst() -> None:
    n = 200_000
    plain = size_multiples(np.random.default_rng(3), n)
    # Scale 1: the same draws; scale 10: the body x10, blocks x BLOCK_SCALE_CAP only.
    assert np.array_equal(scaled_sizes(np.random.default_rng(3), np.ones(n)), plain)
    hot = scaled_sizes(np.random.default_rng(3), np.full(n, 10.0))
    ratio = hot / plain
    assert set(np.round(np.unique(ratio), 9)) == {BLOCK_SCALE_CAP, 10.0}
    assert np.isclose(ratio, BLOCK_SCALE_CAP).mean() == pytest.approx(0.002, abs=0.0005)
