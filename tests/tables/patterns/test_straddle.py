"""The straddle family: a scenario where each pattern fires and a near miss where it must not.

Sigmas are computed here with ``statistics.stdev`` over the history's log changes, not
with the detectors' helper.
"""

import itertools
import math
import statistics

import pytest
from chain_paths import (
    ATM,
    MIN,
    P0,
    STEP,
    R,
    context,
    make_snapshot,
    ms,
    quiet_history,
)

from aion.tables.patterns.base import Signal
from aion.tables.patterns.chain_base import ChainRow
from aion.tables.patterns.straddle import (
    IvCrush,
    MarketMakerTrap,
    PremiumCollection,
    RangeBoundParams,
    RangeBoundStrangle,
)


def ref_sigma(rows):
    prices = [r.price for r in rows]
    return statistics.stdev(math.log(b / a) for a, b in itertools.pairwise(prices))


# -- iv_crush ------------------------------------------------------------------------------


def test_iv_crush_fires_when_iv_falls_and_the_underlying_stays():
    t = ms(10, 20)
    hist = quiet_history(t, 21, iv=0.16)  # the row 15 min back has price P0
    snap = make_snapshot(t, P0, iv=0.13)
    hit = IvCrush().on_snapshot({}, context(snap, hist))
    assert hit is not None and hit.signal is Signal.NEUTRAL
    # 3 vol points, 18.75 %: confidence 0.5 + 0.1 * (3 - 2).
    assert hit.details["drop_points"] == pytest.approx(3.0)
    assert hit.confidence == pytest.approx(0.6)
    assert hit.details["move_sigma"] == pytest.approx(0.0)


def test_iv_crush_near_misses():
    t = ms(10, 20)
    hist = quiet_history(t, 21, iv=0.16)
    assert hist[6].start_ms == t - 15 * MIN and hist[6].price == P0
    # 1.5 vol points is below the 2-point threshold.
    assert IvCrush().on_snapshot({}, context(make_snapshot(t, P0, iv=0.145), hist)) is None
    # The IV falls enough but the underlying moved 1.2 sigma * sqrt(15) from 15 min back.
    sigma = ref_sigma(hist)
    moved = P0 * math.exp(1.2 * sigma * math.sqrt(15))
    assert IvCrush().on_snapshot({}, context(make_snapshot(t, moved, iv=0.13), hist)) is None
    # Just inside the move limit it fires.
    inside = P0 * math.exp(0.9 * sigma * math.sqrt(15))
    assert IvCrush().on_snapshot({}, context(make_snapshot(t, inside, iv=0.13), hist))


# -- range_bound_strangle ------------------------------------------------------------------


def test_range_bound_strangle_fires_in_a_narrow_range_and_sells_two_strikes_out():
    t = ms(11, 0)
    hist = quiet_history(t, 40)
    snap = make_snapshot(t, P0, iv=0.15)
    det = RangeBoundStrangle()
    ctx = context(snap, hist)
    hit = det.on_snapshot({}, ctx)
    assert hit is not None and hit.signal is Signal.NEUTRAL
    width = (P0 * math.exp(R) - P0) / P0
    cap = 3.0 * ref_sigma(hist) * math.sqrt(30)
    assert hit.details["range_pct"] == pytest.approx(100 * width)
    assert hit.confidence == pytest.approx(0.5 + 0.5 * (1 - width / cap))
    ce, pe = det.legs(ctx, hit)
    assert (ce.type, ce.strike, pe.type, pe.strike) == ("CE", ATM + 2 * STEP, "PE", ATM - 2 * STEP)


def test_range_bound_strangle_near_misses():
    t = ms(11, 0)
    det = RangeBoundStrangle()
    # IV up half a vol point over the window.
    hist = quiet_history(t, 40, iv=0.15)
    assert det.on_snapshot({}, context(make_snapshot(t, P0, iv=0.155), hist)) is None
    # Range wider than 3 sigma sqrt(30): the same alternation on a drift of 0.08 % a
    # minute (sigma unchanged, range 2.4 % against a cap of 1.6 %).
    wide = [ChainRow(r.start_ms, r.price * math.exp(0.0008 * i), ATM, 0.15, 160.0, 1000)
            for i, r in enumerate(hist)]
    last = wide[-1].price * math.exp(0.0008)
    assert ref_sigma(wide) == pytest.approx(ref_sigma(hist))
    assert (last - wide[-31].price) / last > 3.0 * ref_sigma(wide) * math.sqrt(30)
    assert det.on_snapshot({}, context(make_snapshot(t, last), wide)) is None
    # A window not covered (history starts 10 min back).
    assert det.on_snapshot({}, context(make_snapshot(t, P0), hist[-10:])) is None
    with pytest.raises(ValueError):
        RangeBoundParams(strikes_out=0)


# -- market_maker_trap ---------------------------------------------------------------------


def _trap_history(t, spike_price):
    hist = quiet_history(t, 25, level=ATM + 30)
    hist[-3] = ChainRow(hist[-3].start_ms, spike_price, ATM, 0.15, 160.0, 1000)
    return hist


def test_market_maker_trap_fires_on_a_reverted_spike_through_the_pin():
    t = ms(12, 0)
    hist = _trap_history(t, ATM - 120)  # 120 points through the 20000 strike
    snap = make_snapshot(t, ATM + 30, oi={ATM: 50_000, ATM + STEP: 20_000})
    hit = MarketMakerTrap().on_snapshot({}, context(snap, hist))
    assert hit is not None and hit.signal is Signal.BULLISH
    sigma = ref_sigma(hist)
    assert hit.details["pin_strike"] == ATM
    assert hit.details["spike_points"] == pytest.approx(120.0)
    assert hit.confidence == pytest.approx(min(1.0, 0.5 + 0.1 * (120 / (sigma * ATM) - 2.0)))


def test_market_maker_trap_near_misses():
    t = ms(12, 0)
    oi = {ATM: 50_000}
    hist = _trap_history(t, ATM - 120)
    # The straddle repriced by 10 %: not a trap, a move.
    assert MarketMakerTrap().on_snapshot(
        {}, context(make_snapshot(t, ATM + 30, ce=88, pe=88, oi=oi), hist)) is None
    # No reversion: still below the pin.
    assert MarketMakerTrap().on_snapshot(
        {}, context(make_snapshot(t, ATM - 60, oi=oi), hist)) is None
    # A spike that barely crosses (5 points) is below 2 sigma * K.
    small = _trap_history(t, ATM - 5)
    assert MarketMakerTrap().on_snapshot(
        {}, context(make_snapshot(t, ATM + 30, oi=oi), small)) is None


# -- premium_collection --------------------------------------------------------------------


def test_premium_collection_fires_when_theta_is_rich():
    t = ms(10, 30)
    hist = quiet_history(t, 20, iv=0.15)
    snap = make_snapshot(t, P0, ce=80, pe=80, theta=-5.0, iv=0.15)
    hit = PremiumCollection().on_snapshot({}, context(snap, hist))
    assert hit is not None
    assert hit.details["theta_share"] == pytest.approx(10 / 160)
    assert hit.confidence == pytest.approx(0.5 + 2.5 * (10 / 160 - 0.05))


def test_premium_collection_near_misses():
    hist = quiet_history(ms(10, 30), 20, iv=0.15)
    det = PremiumCollection()
    # Theta 6 / 160 = 3.75 % a day: not rich enough.
    assert det.on_snapshot({}, context(make_snapshot(ms(10, 30), P0, theta=-3.0), hist)) is None
    # Rich theta but IV rising.
    assert det.on_snapshot(
        {}, context(make_snapshot(ms(10, 30), P0, theta=-5.0, iv=0.16), hist)) is None
    # Rich theta at 09:45: before the window.
    early = quiet_history(ms(9, 45), 20, iv=0.15)
    assert det.on_snapshot({}, context(make_snapshot(ms(9, 45), P0, theta=-5.0), early)) is None


def test_context_back_and_window_use_minute_starts():
    t = ms(10, 20)
    hist = quiet_history(t, 20)
    ctx = context(make_snapshot(t, P0), hist)
    assert ctx.back(15).start_ms == t - 15 * MIN
    assert ctx.window(5)[0].start_ms == t - 5 * MIN and len(ctx.window(5)) == 5
    assert ctx.back(25) is None
    assert ctx.sigma() == pytest.approx(ref_sigma(hist))
