"""``kow_signal_straddle``: the 09:30 decision, the VWAP band, volume, levels and sizing."""

import pytest
from chain_paths import ATM, P0, context, make_snapshot, ms, quiet_history, registry_blocks

from aion.tables.patterns.alerts import AlertConfig
from aion.tables.patterns.base import Signal
from aion.tables.patterns.chain_alerts import (
    ChainAlerting,
    ChainWatch,
    on_snapshot,
    premium_n,
    straddle_quantity,
)
from aion.tables.patterns.kow import KowParams, KowSignalStraddle
from aion.tables.patterns.registry import PatternSet
from aion.tables.patterns.risk import RiskConfig


def test_kow_fires_at_0930_when_price_sits_on_vwap_with_straddle_volume():
    t = ms(9, 30)
    hist = quiet_history(t, 15, atm_volume=1000)
    snap = make_snapshot(t, P0, atm_volume=1600)
    state = KowSignalStraddle().new_state()
    hit = KowSignalStraddle().on_snapshot(state, context(snap, hist, vwap=P0 + 10))
    assert hit is not None and hit.signal is Signal.NEUTRAL
    d = 100 * 10 / (P0 + 10)
    assert hit.details["vwap_distance_pct"] == pytest.approx(d)
    assert hit.confidence == pytest.approx(0.5 + 0.5 * (1 - d / 0.25))
    assert hit.details["volume_increase"] == 600
    assert hit.details["exit_ms"] == ms(15, 15)
    # Decided for the day: 09:31 does not fire again.
    nxt = make_snapshot(ms(9, 31), P0, atm_volume=2000)
    assert KowSignalStraddle().on_snapshot(state, context(nxt, hist, vwap=P0)) is None


def test_kow_near_misses():
    t = ms(9, 30)
    hist = quiet_history(t, 15, atm_volume=1000)
    det = KowSignalStraddle()
    # 0.5 % from the VWAP: trending, nothing sold (and the day is decided).
    state = det.new_state()
    far = context(make_snapshot(t, P0, atm_volume=1600), hist, vwap=P0 * 1.005)
    assert det.on_snapshot(state, far) is None
    assert det.on_snapshot(state, context(make_snapshot(ms(9, 31), P0, atm_volume=1700),
                                          hist, vwap=P0)) is None
    # On the VWAP but no straddle volume traded in 5 minutes.
    flat = context(make_snapshot(t, P0, atm_volume=1000), hist, vwap=P0)
    assert det.on_snapshot(det.new_state(), flat) is None
    # 09:29 is before the entry; 09:36 after the latest entry.
    for hh, mm in ((9, 29), (9, 36)):
        early = context(make_snapshot(ms(hh, mm), P0, atm_volume=1600),
                        quiet_history(ms(hh, mm), 10), vwap=P0)
        assert det.on_snapshot(det.new_state(), early) is None
    # No VWAP (no volume seen anywhere).
    assert det.on_snapshot(det.new_state(), context(make_snapshot(t, P0, atm_volume=1600),
                                                    hist)) is None
    with pytest.raises(ValueError):
        KowParams(exit_minute=10)


def test_kow_compares_a_future_vwap_with_the_future_price():
    t = ms(9, 30)
    hist = quiet_history(t, 15, atm_volume=1000)
    snap = make_snapshot(t, P0, atm_volume=1600)
    # The future trades 60 points over spot; its VWAP too: balanced.
    ctx = context(snap, hist, vwap=P0 + 55, source="future", vwap_price=P0 + 60)
    hit = KowSignalStraddle().on_snapshot(KowSignalStraddle().new_state(), ctx)
    assert hit is not None and hit.details["vwap_source"] == "future"
    assert hit.details["vwap_distance_pct"] == pytest.approx(100 * 5 / (P0 + 55))


def test_kow_alert_levels_and_three_percent_cap():
    only_kow = PatternSet.from_mapping(registry_blocks(enabled={"kow_signal_straddle"}))
    risk = RiskConfig(capital=1_000_000.0)
    alerting = ChainAlerting(AlertConfig(only_kow, risk), lot_size=lambda token: 75)
    watch = ChainWatch(rows=quiet_history(ms(9, 30), 15, atm_volume=1000))
    snap = make_snapshot(ms(9, 30), P0, ce=85.0, pe=75.0, atm_volume=1600)
    (alert,) = on_snapshot(watch, snap, 256265, (P0, "spot", P0), alerting)
    assert alert.alert_id == f"NIFTY 50:kow_signal_straddle:{ms(9, 30)}"
    assert alert.timestamp == ms(9, 31)
    assert alert.action == "SELL_STRADDLE" and alert.signal == "NEUTRAL"
    # Entry: the ATM straddle; stop at 100 % of the premium collected, target 50 %.
    assert alert.entry_price == 160.0
    assert alert.stop_loss == 320.0 and alert.target_price == 80.0
    assert alert.rr_ratio == pytest.approx(0.5) and alert.expected_move == pytest.approx(50.0)
    # 3 % of 10 lakh = 30,000 at risk; 160 per unit at the stop: 187.5 units, 2 lots.
    assert alert.lot_size == 75 and alert.quantity == 150
    assert alert.quantity * (alert.stop_loss - alert.entry_price) <= 0.03 * risk.capital
    assert (alert.quantity + 75) * (alert.stop_loss - alert.entry_price) > 0.03 * risk.capital
    assert alert.details["ce_strike"] == ATM == alert.details["pe_strike"]


def test_straddle_quantity_takes_the_smaller_of_turtle_and_cap():
    risk = RiskConfig(capital=1_000_000.0)  # 1 % = 10,000 per N; 3 % = 30,000 cap
    # N = 2: turtle 10,000 / 2 = 5,000 units = 66 lots; the cap (2 lots) binds.
    assert straddle_quantity(160.0, 1.0, 2.0, 75, risk) == (150, 4950, 150)
    # N = 100: turtle 100 units = 1 lot, below the cap.
    assert straddle_quantity(160.0, 1.0, 100.0, 75, risk) == (75, 75, 150)
    # N unknown: the cap alone.
    assert straddle_quantity(160.0, 1.0, None, 75, risk) == (150, 150, 150)
    # A premium so large one lot breaks the cap: nothing.
    assert straddle_quantity(500.0, 1.0, None, 75, risk)[0] == 0


def test_premium_n_is_the_mean_absolute_premium_change():
    rows = quiet_history(ms(10, 0), 25)
    rows = [r.__class__(r.start_ms, r.price, r.atm_strike, r.atm_iv, 160.0 + (i % 2) * 3.0,
                        r.atm_volume) for i, r in enumerate(rows)]
    assert premium_n(rows) == pytest.approx(3.0)
    assert premium_n(rows[:20]) is None  # 19 changes
