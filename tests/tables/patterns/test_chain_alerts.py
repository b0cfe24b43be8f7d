"""Chain alerts through ``tables.chain.offer``: order-independent, restartable, validated.

A 35-minute morning on one underlying: partition 0 carries the index (no volume) and its
future (volume), partition 1 the options; the ATM straddle holds 160 until 09:31 and then
loses 1 point of combined premium per 20-second step.
"""

import json
import random

import pytest
from chain_paths import registry_blocks

from aion.config.nse_calendar import NseCalendar
from aion.config.patterns import load_patterns
from aion.tables.chain import (
    CLOCK_END,
    KIND_CE,
    KIND_FUT,
    KIND_PE,
    KIND_SPOT,
    ChainInput,
    ChainParams,
    ChainState,
    Quote,
    offer,
)
from aion.tables.expiry import TradingCalendar
from aion.tables.patterns.alerts import AlertConfig
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.chain_alerts import ChainAlerting
from aion.tables.patterns.registry import DETECTORS, PatternSet
from aion.tables.patterns.risk import RiskConfig
from aion.tables.records import AlertRecord, ChainSnapshot, ValidationRecord
from aion.tables.timeutil import NS_PER_MS, NS_PER_S, ist_wall_ns

CAL = TradingCalendar(NseCalendar.load())
PARAMS = ChainParams()
U = "NSE:NIFTY 50"
EXPIRY = "2025-11-25"
STRIKES = [19900.0, 19950.0, 20000.0, 20050.0, 20100.0]
STEPS = 105  # 20 s apart from 09:15:00: to 09:49:40
DECAY_FROM = 48  # step of 09:31:00


CHAIN_NAMES = {d.NAME for d in DETECTORS if "underlying_chain" in
               load_patterns()[d.NAME]["applies_to"]}


def alerting(enabled=CHAIN_NAMES):
    patterns = PatternSet.from_mapping(registry_blocks(enabled=set(enabled)))
    return ChainAlerting(AlertConfig(patterns, RiskConfig(), CAL), lot_size=lambda t: 75)


def straddle(k):
    """Combined ATM premium after step ``k``."""
    return 160.0 - max(0, k - DECAY_FROM)


def streams(day=18, seed=0):
    rng = random.Random(seed)
    t0 = ist_wall_ns(2025, 11, day, 9, 15)
    p0, p1 = [], []
    for k in range(STEPS):
        t = t0 + k * 20 * NS_PER_S
        spot = 20000.0 + (4.0 if k % 2 else 0.0) + rng.choice((-1.0, 0.0, 1.0))
        p0.append(ChainInput(U, 0, k, t + 1000, (0, 1), (
            Quote(1, U, KIND_SPOT, 0.0, "", t, spot, 0, 0),
            Quote(2, "NFO:NIFTY25NOVFUT", KIND_FUT, 0.0, EXPIRY, t, spot + 1.0, 9_000_000,
                  1000 * (k + 1)))))
        qs = []
        for i, strike in enumerate(STRIKES):
            atm = strike == 20000.0
            for kind, tok in ((KIND_CE, 100 + i), (KIND_PE, 200 + i)):
                price = straddle(k) / 2 if atm else \
                    max(5.0, 80.0 + (20000.0 - strike) * (0.5 if kind == KIND_CE else -0.5))
                qs.append(Quote(tok, f"NFO:NIFTY25N25{int(strike)}{kind}", kind, strike,
                                EXPIRY, t + 2, price, 50_000 if atm else 10_000,
                                100 * (k + 1) if atm else 10))
        p1.append(ChainInput(U, 1, k, t + 2000, (0, 1), tuple(qs)))
    p0.append(ChainInput(U, 0, STEPS, CLOCK_END, (0, 1)))
    p1.append(ChainInput(U, 1, STEPS, CLOCK_END, (0, 1)))
    return p0, p1


def interleave(p0, p1, rng):
    a, b, out = list(p0), list(p1), []
    while a or b:
        src = a if (a and (not b or rng.random() < 0.5)) else b
        out.append(src.pop(0))
    return out


def run(items, config, restart_every=0):
    st, out = ChainState(U), []
    for i, it in enumerate(items):
        out.extend(offer(st, it, PARAMS, CAL, config))
        if restart_every and i % restart_every == 0:
            st = ChainState.from_bytes(st.to_bytes())
    return st, out


def of(records, kind):
    return [r for r in records if isinstance(r, kind)]


def test_kow_alert_and_its_validation_on_the_combined_premium():
    p0, p1 = streams()
    _, out = run(p0 + p1, alerting({"kow_signal_straddle"}))
    (alert,) = of(out, AlertRecord)
    start = ist_wall_ns(2025, 11, 18, 9, 30) // NS_PER_MS
    assert alert.alert_id == f"NIFTY 50:kow_signal_straddle:{start}"
    assert alert.timestamp == start + 60_000
    assert alert.entry_price == 160.0 and alert.stop_loss == 320.0
    assert alert.target_price == 80.0
    assert alert.details["vwap_source"] == "future"  # the index has no volume
    assert alert.details["ce_token"] == 102 and alert.details["pe_token"] == 202
    # The alert comes right after the 09:30 snapshot it fired on.
    i = out.index(alert)
    assert isinstance(out[i - 1], ChainSnapshot)
    assert out[i - 1].clock_ns // NS_PER_MS // 60_000 * 60_000 == start
    vals = {v.window_min: v for v in of(out, ValidationRecord)}
    assert sorted(vals) == [1, 2, 5, 10, 30, 60]
    one = vals[1]
    # Entry: the first combined premium after 09:31:00 (step 49, 09:31:20), not 160.
    assert one.entry_price == straddle(49) == 159.0
    assert one.entry_ms == ist_wall_ns(2025, 11, 18, 9, 31, 20) // NS_PER_MS
    # The 1-minute window closes on the update at its end (step 52) with its premium.
    assert one.exit_price == straddle(52)
    assert one.direction == -1
    assert one.return_pct == pytest.approx(-100 * (straddle(52) - 159.0) / 159.0)
    assert one.success is True and one.first_touch == "neither"
    # Windows past the data close at the end of stream.
    assert vals[60].closed_at_session_end and not vals[1].closed_at_session_end


def test_chain_alerts_record_the_day_regime_of_their_underlying():
    from dataclasses import replace

    from aion.tables.timeutil import ist_day
    from aion.tables.vix_prior import NEUTRAL, PriorVix, day_regime
    from aion.tables.volume_baseline import VixParams

    prior = PriorVix.from_averages({"last_close": 21.0, "as_of": "2025-11-17"}, VixParams())
    asked = []

    def regime(token, day):
        asked.append((token, day))
        return day_regime(prior, day, VixParams())

    p0, p1 = streams()
    _, out = run(p0 + p1, replace(alerting({"kow_signal_straddle"}), regime=regime))
    (alert,) = of(out, AlertRecord)
    assert (alert.vix_regime, alert.vix_multiplier, alert.vix_basis) == (
        "HIGH", 1.4, "2025-11-17")
    assert asked == [(alert.token, int(ist_day(alert.bar_start_ns)))]
    # Without a regime function: neutral, and the alert says why.
    _, out = run(p0 + p1, alerting({"kow_signal_straddle"}))
    (alert,) = of(out, AlertRecord)
    assert (alert.vix_regime, alert.vix_multiplier, alert.vix_basis) == (
        None, 1.0, NEUTRAL.basis)


@pytest.mark.parametrize("seed", range(3))
def test_chain_alerts_do_not_depend_on_interleaving_or_restarts(seed):
    p0, p1 = streams(seed=seed)
    config = alerting()
    ref_state, ref = run(p0 + p1, config)
    assert of(ref, AlertRecord) and of(ref, ValidationRecord)
    rng = random.Random(seed)
    for _ in range(3):
        st, out = run(interleave(p0, p1, rng), config)
        assert out == ref
        assert st.to_bytes() == ref_state.to_bytes()
    _, restarted = run(interleave(p0, p1, rng), config, restart_every=7)
    assert restarted == ref


def test_no_alerts_on_a_non_trading_day_and_snapshots_unchanged_without_alerting():
    p0, p1 = streams(day=16)  # a Sunday
    st, out = run(p0 + p1, alerting({"kow_signal_straddle"}))
    assert not of(out, AlertRecord) and st.watch.suppressed == 1
    _, plain = run(p0 + p1, None)
    assert plain == of(out, ChainSnapshot)


def test_format_1_chain_state_is_still_read():
    p0, p1 = streams()
    st, _ = run((p0 + p1)[:30], alerting())
    doc = json.loads(st.to_bytes())
    doc["v"] = 1
    del doc["w"]
    old = ChainState.from_bytes(json.dumps(doc).encode())
    assert old.quotes == st.quotes and not old.watch.rows
    with pytest.raises(ValueError):
        ChainState.from_bytes(json.dumps({**doc, "v": 9}).encode())


def test_registry_holds_the_chain_patterns_and_refuses_mixed_classes():
    patterns = PatternSet.from_mapping(registry_blocks())
    assert [s.name for s in patterns.enabled_for(InstrumentKind.CHAIN)] == [
        "iv_crush", "range_bound_strangle", "market_maker_trap", "premium_collection",
        "kow_signal_straddle"]
    assert not {s.name for s in patterns.enabled_for(InstrumentKind.EQUITY)} & CHAIN_NAMES
    bad = registry_blocks()
    bad["iv_crush"]["applies_to"] = ["equity"]
    with pytest.raises(ValueError, match="iv_crush: applies_to"):
        PatternSet.from_mapping(bad)
    bad = registry_blocks()
    bad["breakout"]["applies_to"] = ["underlying_chain"]
    with pytest.raises(ValueError, match="breakout: applies_to"):
        PatternSet.from_mapping(bad)
